// Audio worklets of the softphone. The AudioContext runs at the line's rate (16 kHz),
// so the browser resamples the microphone and the speakers itself.

const FRAME_SAMPLES = 320; // 20 ms at 16 kHz
// Bot audio: wait for this many frames (or PREBUFFER_WAIT_QUANTA render quanta)
// before playing from silence, to ride out network jitter.
const PREBUFFER_FRAMES = 3;
const PREBUFFER_WAIT_QUANTA = 8;

// Cuts the microphone into 20 ms PCM16 frames and posts each one (an ArrayBuffer).
class MicFrames extends AudioWorkletProcessor {
  constructor() {
    super();
    this.frame = new Int16Array(FRAME_SAMPLES);
    this.filled = 0;
  }

  process(inputs) {
    const channel = inputs[0] && inputs[0][0];
    if (!channel) return true;
    for (let i = 0; i < channel.length; i++) {
      const s = Math.max(-1, Math.min(1, channel[i]));
      this.frame[this.filled++] = s < 0 ? s * 0x8000 : s * 0x7fff;
      if (this.filled === FRAME_SAMPLES) {
        this.port.postMessage(this.frame.buffer, [this.frame.buffer]);
        this.frame = new Int16Array(FRAME_SAMPLES);
        this.filled = 0;
      }
    }
    return true;
  }
}

// Plays PCM16 frames posted to it; "clear" drops everything not yet played (barge-in).
// Posts "playing" and "idle" when the bot starts and stops being heard.
class BotPlayer extends AudioWorkletProcessor {
  constructor() {
    super();
    this.queue = [];
    this.current = null;
    this.offset = 0;
    this.playing = false;
    this.waited = 0;
    this.port.onmessage = (event) => {
      if (event.data === "clear") {
        this.queue = [];
        this.current = null;
        this.setPlaying(false);
        return;
      }
      const pcm = new Int16Array(event.data);
      const samples = new Float32Array(pcm.length);
      for (let i = 0; i < pcm.length; i++) samples[i] = pcm[i] / 0x8000;
      this.queue.push(samples);
    };
  }

  setPlaying(on) {
    if (on !== this.playing) {
      this.playing = on;
      this.waited = 0;
      this.port.postMessage(on ? "playing" : "idle");
    }
  }

  process(_inputs, outputs) {
    const out = outputs[0][0];
    if (!this.playing) {
      if (this.queue.length === 0) return true;
      this.waited++;
      if (this.queue.length < PREBUFFER_FRAMES && this.waited < PREBUFFER_WAIT_QUANTA) return true;
      this.setPlaying(true);
    }
    let i = 0;
    while (i < out.length) {
      if (!this.current) {
        this.current = this.queue.shift() || null;
        this.offset = 0;
        if (!this.current) break;
      }
      const n = Math.min(out.length - i, this.current.length - this.offset);
      out.set(this.current.subarray(this.offset, this.offset + n), i);
      i += n;
      this.offset += n;
      if (this.offset === this.current.length) this.current = null;
    }
    if (i < out.length) this.setPlaying(false); // ran dry: the bot is silent
    return true;
  }
}

registerProcessor("mic-frames", MicFrames);
registerProcessor("bot-player", BotPlayer);
