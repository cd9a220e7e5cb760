import assert from "node:assert/strict";
import fc from "fast-check";
import { engineParams } from "../server/engine/query.ts";

/** What URLSearchParams gives for the same query: the reference. */
function reference(search: string) {
  const q = new URLSearchParams(search);
  return { transport: q.getAll("transport"), eio: q.getAll("EIO"), sid: q.getAll("sid") };
}

/** The `search` a URL makes of a raw query, as the handler reads it. */
function searchOf(query: string): string {
  return new URL(`http://h/socket.io/?${query}`).search;
}

Deno.test("engineParams: the queries clients send", () => {
  for (
    const query of [
      "EIO=4&transport=polling",
      "EIO=4&transport=polling&t=OabcD&sid=AAAAAAAAAAAAAAAAAAAB",
      "EIO=3&transport=websocket&sid=abc&b64=1",
      "transport=polling&transport=websocket&EIO=4",
      "sid=&EIO=4&transport=polling",
      "sid&EIO&transport",
      "&&EIO=4&&transport=polling&&",
      "EIO=4=4&transport==polling",
      "eio=4&Transport=polling&SID=x",
      "transport=p%6Flling&EIO=4",
      "transport=polling+x&EI%4F=4&sid=a+b",
      "sid=%E2%82%AC&sid=%FF&sid=%",
      "",
    ]
  ) {
    const search = searchOf(query);
    assert.deepEqual(engineParams(search), reference(search), query);
  }
});

Deno.test("engineParams: as URLSearchParams, on any query", () => {
  const part = fc.oneof(
    fc.constantFrom("EIO", "transport", "sid", "t", "b64", "=", "&", "+", "%", "%4F", "4", "?"),
    fc.string({ maxLength: 4 }),
    fc.string({ unit: "grapheme", maxLength: 3 }),
  );
  fc.assert(
    fc.property(fc.array(part, { maxLength: 16 }), (parts) => {
      const search = searchOf(parts.join(""));
      assert.deepEqual(engineParams(search), reference(search));
    }),
    { numRuns: 3000 },
  );
});
