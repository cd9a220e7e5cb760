// The app of the npm package's servers: `echo` acknowledges with what it got and the transport.
export function onConnection(socket) {
  socket.on("echo", (...args) => {
    const ack = args.pop();
    ack({ args, transport: socket.conn.transport.name });
  });
}
