// The browser softphone: one WebSocket to the gateway is one registered phone.
// Protocol: see switchboard_gateway/softphone_protocol.py. No build step, no dependencies.

const params = new URLSearchParams(location.search);
const AUTO_ANSWER = params.get("autoanswer") === "1";
const NUMBER = params.get("number") || ""; // "" = the gateway's softphone_number
// Closes that retrying cannot fix: bad key, bad number, number taken, bad input.
const FINAL_CLOSES = new Set([1003, 1007, 1008, 1009, 4400, 4401, 4409, 4412]);
const MAX_RETRY_MS = 10000;

const $ = (id) => document.getElementById(id);
// What the page did, for people debugging it and for the end-to-end test.
export const stats = { framesSent: 0, framesHeard: 0, clears: 0, closes: [] };
window.softphoneStats = stats;

let socket = null;
let ringing = null; // call id
let live = null; // call id
let audio = null; // AudioLine while in a call
let retryMs = 1000;
let callStarted = 0;
let timer = 0;

function setState(state, label, notice) {
  const badge = $("state");
  badge.textContent = label;
  badge.className = `badge state-${state}`;
  document.body.dataset.state = state;
  if (notice !== undefined) $("notice").textContent = notice;
}

function connect() {
  const url = new URL("ws", import.meta.url);
  url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
  socket = new WebSocket(url);
  socket.binaryType = "arraybuffer";
  socket.onopen = () => socket.send(JSON.stringify({ type: "register", number: NUMBER }));
  socket.onmessage = (event) => {
    if (event.data instanceof ArrayBuffer) {
      if (audio) audio.play(event.data);
      return;
    }
    let message;
    try {
      message = JSON.parse(event.data);
    } catch {
      return;
    }
    onMessage(message);
  };
  socket.onclose = (event) => {
    stats.closes.push(event.code);
    endCall();
    hideIncoming();
    const why = event.reason || `code ${event.code}`;
    if (FINAL_CLOSES.has(event.code)) {
      setState("refused", "not registered", `The gateway refused this phone: ${why}.`);
      return;
    }
    setState("disconnected", "disconnected", `Line lost (${why}); reconnecting…`);
    setTimeout(connect, retryMs);
    retryMs = Math.min(retryMs * 2, MAX_RETRY_MS);
  };
}

function send(message) {
  if (socket && socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify(message));
}

function onMessage(message) {
  switch (message.type) {
    case "registered":
      retryMs = 1000;
      $("number").textContent = message.number;
      document.body.dataset.number = message.number;
      setState("registered", "ready", "Registered: a call to this number rings here.");
      break;
    case "ringing":
      ringing = message.call_id;
      $("caller").textContent = message.from || "unknown";
      $("incoming").hidden = false;
      setState("ringing", "ringing", "");
      if (AUTO_ANSWER) answer();
      break;
    case "connected":
      hideIncoming();
      if (live === message.call_id) break;
      live = message.call_id;
      document.body.dataset.callId = live;
      startCall();
      break;
    case "transcript":
      showLine(message);
      break;
    case "clear":
      stats.clears++;
      if (audio) audio.clear();
      break;
    case "bot_done":
      break;
    case "transferred":
      $("notice").textContent = `Transferred to ${message.target}.`;
      break;
    case "ended":
      hideIncoming();
      endCall();
      setState("registered", "ready", `Call ended (${message.reason.replaceAll("_", " ")}).`);
      break;
    case "error":
      $("notice").textContent = message.message;
      break;
  }
}

async function answer() {
  const callId = ringing;
  if (!callId) return;
  $("answer").disabled = true;
  try {
    // Opened here, in the click, so the browser lets it play and record.
    audio = await AudioLine.open((frame) => {
      if (live && socket.readyState === WebSocket.OPEN) {
        socket.send(frame);
        stats.framesSent++;
      }
    });
  } catch (error) {
    $("notice").textContent = `No microphone: ${error.message}`;
    $("answer").disabled = false;
    return;
  }
  if (ringing !== callId) {
    // It stopped ringing while the microphone opened.
    audio.close();
    audio = null;
    return;
  }
  send({ type: "answer", call_id: callId });
}

function hideIncoming() {
  ringing = null;
  $("incoming").hidden = true;
  $("answer").disabled = false;
}

function startCall() {
  for (const row of $("transcript").querySelectorAll(".msg")) row.remove();
  $("no-transcript").hidden = false;
  $("call").hidden = false;
  callStarted = Date.now();
  tick();
  timer = setInterval(tick, 1000);
  setState("in_call", "in call", "");
}

function endCall() {
  live = null;
  $("call").hidden = true;
  $("speaking").classList.remove("on");
  clearInterval(timer);
  if (audio) {
    audio.close();
    audio = null;
  }
}

function tick() {
  const sec = Math.floor((Date.now() - callStarted) / 1000);
  $("timer").textContent = `${Math.floor(sec / 60)}:${String(sec % 60).padStart(2, "0")}`;
}

function showLine({ seq, speaker, text, interrupted }) {
  $("no-transcript").hidden = true;
  let row = document.querySelector(`.msg[data-seq="${Number(seq)}"]`);
  if (!row) {
    row = document.createElement("div");
    row.dataset.seq = String(Number(seq));
    const who = document.createElement("div");
    who.className = "who";
    const said = document.createElement("div");
    said.className = "text";
    row.append(who, said);
    const later = [...$("transcript").querySelectorAll(".msg")].find(
      (r) => Number(r.dataset.seq) > Number(seq),
    );
    $("transcript").insertBefore(row, later || null);
  }
  row.className = `msg ${speaker === "bot" ? "assistant" : "caller"}`;
  row.dataset.speaker = speaker;
  row.children[0].textContent = speaker === "bot" ? "Bot" : "You";
  row.children[1].textContent = interrupted ? `${text} — (interrupted)` : text;
}

// The microphone and the speaker of one call, in one AudioContext at the line's rate.
class AudioLine {
  static async open(onFrame) {
    const context = new AudioContext({ sampleRate: 16000 });
    await context.audioWorklet.addModule(new URL("softphone-worklet.js", import.meta.url));
    const stream = await navigator.mediaDevices.getUserMedia({
      audio: { channelCount: 1, echoCancellation: true, noiseSuppression: true, autoGainControl: true },
    });
    const mic = new AudioWorkletNode(context, "mic-frames", { outputChannelCount: [1] });
    mic.port.onmessage = (event) => onFrame(event.data);
    context.createMediaStreamSource(stream).connect(mic);
    mic.connect(context.destination); // silent; being connected keeps it processing
    const player = new AudioWorkletNode(context, "bot-player", { outputChannelCount: [1] });
    player.port.onmessage = (event) =>
      $("speaking").classList.toggle("on", event.data === "playing");
    player.connect(context.destination);
    await context.resume();
    return new AudioLine(context, stream, player);
  }

  constructor(context, stream, player) {
    this.context = context;
    this.stream = stream;
    this.player = player;
  }

  play(frame) {
    stats.framesHeard++;
    this.player.port.postMessage(frame, [frame]);
  }

  clear() {
    this.player.port.postMessage("clear");
  }

  close() {
    for (const track of this.stream.getTracks()) track.stop();
    this.context.close();
  }
}

$("answer").addEventListener("click", answer);
$("decline").addEventListener("click", () => {
  send({ type: "hangup" });
  hideIncoming();
  setState("registered", "ready", "Call declined.");
});
$("hangup").addEventListener("click", () => send({ type: "hangup" }));
connect();
