// Local tones and level meters for the web phone, on one AudioContext.
// What the user hears (ringback, ringtone, the far end) goes through one
// analyser so the page, and the tests, can measure it.
"use strict";
(function (root) {
  // Cadences: [hz, on seconds, off seconds]. Ringback matches the
  // softswitch's own (425 Hz, 1 s on, 4 s off); the ringtone is distinct.
  const RINGBACK = [425, 1, 4];
  const RINGTONE = [800, 1, 2];
  const CADENCE_REPEATS = 60; // a tone stops by itself after this many cycles

  function createTones(ctx, heard) {
    let current = null; // {osc, gain}

    function stop() {
      if (!current) return;
      try {
        current.osc.stop();
      } catch (e) {
        // already stopped
      }
      current.osc.disconnect();
      current.gain.disconnect();
      current = null;
    }

    function play([hz, on, off]) {
      stop();
      ctx.resume();
      const osc = ctx.createOscillator();
      osc.frequency.value = hz;
      const gain = ctx.createGain();
      const t0 = ctx.currentTime + 0.05;
      gain.gain.setValueAtTime(0, ctx.currentTime);
      for (let i = 0; i < CADENCE_REPEATS; i++) {
        const t = t0 + i * (on + off);
        gain.gain.setValueAtTime(0.25, t);
        gain.gain.setValueAtTime(0, t + on);
      }
      osc.connect(gain);
      gain.connect(ctx.destination);
      gain.connect(heard);
      osc.start();
      osc.stop(t0 + CADENCE_REPEATS * (on + off));
      current = { osc, gain };
    }

    return {
      ringback: () => play(RINGBACK),
      ringtone: () => play(RINGTONE),
      stop,
      playing: () => !!current,
    };
  }

  // rmsLevel: 0..1 meter value from an analyser (-60 dBFS .. 0 dBFS).
  function meterLevel(analyser, buf) {
    if (!analyser) return 0;
    analyser.getFloatTimeDomainData(buf);
    let sum = 0;
    for (let i = 0; i < buf.length; i++) sum += buf[i] * buf[i];
    const dB = 20 * Math.log10(Math.sqrt(sum / buf.length) || 1e-9);
    return Math.max(0, Math.min(1, (dB + 60) / 60));
  }

  root.tones = { createTones, meterLevel, RINGBACK, RINGTONE };
})(window);
