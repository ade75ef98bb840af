// The unattended office devices (CSP: script-src 'self', so no inline script).
// 1. Call display: optional gong (?gong=1) when a new call appears, played with the Web Audio API.
// 2. Kiosk ticket page: back to the start page after a while, for the next citizen.

(() => {
  const root = document.getElementById("display");
  if (!root || root.dataset.gong !== "1") return;
  const Context = window.AudioContext || window.webkitAudioContext;
  if (!Context) return;
  const audio = new Context();
  const button = document.getElementById("gong-enable");
  // Browsers start audio only after a user gesture unless the device allows autoplay.
  const showButton = () => { if (button) button.hidden = audio.state === "running"; };
  if (button) {
    button.addEventListener("click", () => audio.resume().then(showButton));
  }
  showButton();

  const tone = (frequency, start, length) => {
    const osc = audio.createOscillator();
    const gain = audio.createGain();
    osc.type = "sine";
    osc.frequency.value = frequency;
    gain.gain.setValueAtTime(0.0001, start);
    gain.gain.exponentialRampToValueAtTime(0.4, start + 0.02);
    gain.gain.exponentialRampToValueAtTime(0.0001, start + length);
    osc.connect(gain).connect(audio.destination);
    osc.start(start);
    osc.stop(start + length + 0.05);
  };
  const gong = () => {
    if (audio.state !== "running") return;
    const now = audio.currentTime;
    tone(659.25, now, 1.2); // E5, then C5: the familiar two-tone office chime
    tone(523.25, now + 0.6, 1.6);
  };

  // Only a newer call rings; a finished ticket leaving the list must not.
  const latest = () => {
    const current = document.querySelector("#display-current[data-called]");
    return current ? Number(current.dataset.called) : 0;
  };
  let seen = latest();
  document.addEventListener("htmx:afterSettle", () => {
    const now = latest();
    if (now > seen) gong();
    seen = Math.max(seen, now);
  });
})();

(() => {
  const page = document.querySelector("[data-return-url][data-return-after]");
  if (!page) return;
  const seconds = Number(page.dataset.returnAfter) || 60;
  let timer = setTimeout(() => window.location.assign(page.dataset.returnUrl), seconds * 1000);
  // Any touch restarts the countdown, so nobody is sent away while still reading.
  document.addEventListener("pointerdown", () => {
    clearTimeout(timer);
    timer = setTimeout(() => window.location.assign(page.dataset.returnUrl), seconds * 1000);
  });
})();
