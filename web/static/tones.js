// Local tones and level meters for the web phone, on one AudioContext.
// What the user hears (ringback, ringtone, the far end) goes through one
// analyser so the page, and the tests, can measure it.
"use strict";
(function (root) {
  // Cadences: [hz, on seconds, off seconds]. Ringback matches the
  // softswitch's own (425 Hz, 1 s on, 4 s off); the ringtone is distinct.
  const RINGBACK = [425, 1, 4];
  const RINGTONE = [800, 1, 2];
  const SPEAKER_TEST = [440, 1, 0.5]; // the self-test's tone: twice, then silence
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

    function play([hz, on, off], repeats = CADENCE_REPEATS) {
      stop();
      ctx.resume();
      const osc = ctx.createOscillator();
      osc.frequency.value = hz;
      const gain = ctx.createGain();
      const t0 = ctx.currentTime + 0.05;
      gain.gain.setValueAtTime(0, ctx.currentTime);
      for (let i = 0; i < repeats; i++) {
        const t = t0 + i * (on + off);
        gain.gain.setValueAtTime(0.25, t);
        gain.gain.setValueAtTime(0, t + on);
      }
      osc.connect(gain);
      gain.connect(ctx.destination);
      gain.connect(heard);
      osc.start();
      osc.stop(t0 + repeats * (on + off));
      osc.onended = () => current && current.osc === osc && stop();
      current = { osc, gain };
    }

    return {
      ringback: () => play(RINGBACK),
      ringtone: () => play(RINGTONE),
      speakerTest: () => play(SPEAKER_TEST, 2),
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

  // toneStream is a MediaStream carrying a steady sine at hz (-10 dBFS), to
  // send instead of a microphone; stop ends it.
  function toneStream(ctx, hz) {
    const osc = ctx.createOscillator();
    osc.frequency.value = hz;
    const gain = ctx.createGain();
    gain.gain.value = 0.3;
    const dst = ctx.createMediaStreamDestination();
    osc.connect(gain).connect(dst);
    osc.start();
    return { stream: dst.stream, stop: () => osc.stop() };
  }

  // analyse measures what an analyser hears: dominant frequency (Hz) and
  // level (dBFS).
  function analyse(analyser) {
    if (!analyser) return { hz: 0, dBFS: -Infinity };
    const n = analyser.fftSize;
    const time = new Float32Array(n);
    analyser.getFloatTimeDomainData(time);
    let sum = 0;
    for (const v of time) sum += v * v;
    const rms = Math.sqrt(sum / n);
    const freq = new Float32Array(analyser.frequencyBinCount);
    analyser.getFloatFrequencyData(freq);
    let best = 1;
    for (let i = 2; i < freq.length; i++) if (freq[i] > freq[best]) best = i;
    return { hz: (best * analyser.context.sampleRate) / n, dBFS: 20 * Math.log10(rms || 1e-9) };
  }

  root.tones = { createTones, meterLevel, analyse, toneStream, RINGBACK, RINGTONE, SPEAKER_TEST };
})(window);
