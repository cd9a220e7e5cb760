// The demo page: rooms, chat, live cursors, and what the connection is doing right now.
/* global io */
const $ = (id) => document.getElementById(id);
// `?transports=polling` keeps the page on long-polling, to watch it work across a cluster.
const only = new URLSearchParams(location.search).get("transports");
const socket = io({ reconnectionDelayMax: 2000, ...(only && { transports: only.split(",") }) });
let room = "general";
let rooms = [];
const cursors = new Map();

function setState(state) {
  $("state").textContent = state;
  $("state").dataset.state = state;
}

function showTransport() {
  const engine = socket.io.engine;
  $("transport").textContent = engine ? engine.transport.name : "-";
}

function line(html, cls) {
  const li = document.createElement("li");
  if (cls) li.className = cls;
  li.innerHTML = html;
  $("messages").append(li);
  li.scrollIntoView({ block: "end" });
}

const esc = (s) => String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function renderRooms() {
  $("rooms").replaceChildren(...rooms.map((r) => {
    const b = document.createElement("button");
    b.textContent = "#" + r;
    b.setAttribute("aria-pressed", String(r === room));
    b.onclick = () => join(r);
    return b;
  }));
}

function join(r) {
  room = r;
  renderRooms();
  for (const el of cursors.values()) el.remove();
  cursors.clear();
  socket.emit("join", r, (history) => {
    $("messages").replaceChildren();
    line(`you are in #${esc(r)}`, "system");
    for (const m of history) line(`<span class="from">${esc(m.from)}</span>${esc(m.text)}`);
  });
}

socket.on("connect", () => {
  setState("connected");
  showTransport();
  const engine = socket.io.engine;
  engine.once("upgrade", () => {
    showTransport();
    line("upgraded from polling to websocket", "system");
  });
  socket.emit("hello", $("name").value || localStorage.getItem("name") || "", (info) => {
    $("name").value = info.name;
    rooms = info.rooms;
    join(room);
  });
});
socket.on("disconnect", (reason) => {
  setState(socket.active ? "reconnecting" : "disconnected");
  $("transport").textContent = "-";
  line(`disconnected (${esc(reason)})`, "system");
});
socket.io.on("reconnect_attempt", () => setState("reconnecting"));
socket.on("connect_error", () => setState(socket.active ? "reconnecting" : "disconnected"));

socket.on("chat", (m) => line(`<span class="from">${esc(m.from)}</span>${esc(m.text)}`));
socket.on("joined", (u) => line(`${esc(u.name)} joined`, "system"));
socket.on("left", (u) => {
  line(`${esc(u.name)} left`, "system");
  cursors.get(u.id)?.remove();
  cursors.delete(u.id);
});
socket.on("cursor", ({ id, name, x, y }) => {
  let el = cursors.get(id);
  if (!el) {
    el = document.createElement("div");
    el.className = "cursor";
    el.textContent = name;
    el.style.background = `hsl(${[...id].reduce((h, c) => h + c.charCodeAt(0), 0) % 360} 60% 45%)`;
    $("cursors").append(el);
    cursors.set(id, el);
  }
  el.style.left = x * innerWidth + "px";
  el.style.top = y * innerHeight + "px";
});

$("composer").onsubmit = (e) => {
  e.preventDefault();
  const text = $("text").value.trim();
  if (!text) return;
  localStorage.setItem("name", $("name").value);
  socket.timeout(5000).emit("chat", text, (err) => {
    if (err) line("not delivered (timeout)", "system");
  });
  $("text").value = "";
};
$("name").onchange = () => socket.emit("hello", $("name").value, () => {});

let last = 0;
addEventListener("pointermove", (e) => {
  const now = performance.now();
  if (now - last < 40 || !socket.connected) return;
  last = now;
  socket.volatile.emit("cursor", e.clientX / innerWidth, e.clientY / innerHeight);
});

function measureRtt() {
  if (!socket.connected) return;
  const t = performance.now();
  socket.timeout(2000).emit("rtt", (err) => {
    $("rtt").textContent = err ? "timeout" : `${(performance.now() - t).toFixed(1)} ms`;
  });
  showTransport();
}
setInterval(measureRtt, 1000);
socket.on("connect", measureRtt);
