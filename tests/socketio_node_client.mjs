// A conversation over socket.io with npm's socket.io-client (what rasa-webchat is built on), for
// tests/test_socketio_e2e.py. Usage: node socketio_node_client.mjs URL ORIGIN TRANSPORT SESSION MESSAGE KIND [...]
// (pairs of MESSAGE KIND: send MESSAGE, wait for the custom message of that KIND). Prints one JSON object.
import { io } from "socket.io-client";

const [url, origin, transport, sessionId, ...steps] = process.argv.slice(2);
const WAIT_MS = 30000;
const socket = io(url, { transports: [transport], extraHeaders: { Origin: origin }, reconnection: false });
const events = [];
let waiting = null;

function fail(message) {
  console.log(JSON.stringify({ ok: false, error: message, events }));
  process.exit(1);
}

socket.on("connect_error", (err) => fail(`connect_error: ${err.message}`));
socket.on("bot_uttered", (event) => {
  events.push(event);
  const kind = event?.custom?.madoguchi?.kind;
  if (waiting && kind === waiting.kind) waiting.resolve();
});

function until(kind) {
  return new Promise((resolve, reject) => {
    waiting = { kind, resolve };
    setTimeout(() => reject(new Error(`no ${kind} answer within ${WAIT_MS} ms`)), WAIT_MS);
  });
}

socket.on("connect", async () => {
  try {
    const confirmed = new Promise((resolve) => socket.once("session_confirm", resolve));
    socket.emit("session_request", { session_id: sessionId });
    const session = await confirmed;
    for (let i = 0; i < steps.length; i += 2) {
      const answered = until(steps[i + 1]);
      socket.emit("user_uttered", { message: steps[i], session_id: sessionId });
      await answered;
    }
    console.log(JSON.stringify({ ok: true, session, transport: socket.io.engine.transport.name, events }));
    socket.close();
    process.exit(0);
  } catch (err) {
    fail(err.message);
  }
});
