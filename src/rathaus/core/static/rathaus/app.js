// Keyboard help for the desk: "/" focuses the search box, arrow keys move through results.
document.addEventListener("keydown", (event) => {
  const box = document.getElementById("desk-q");
  if (!box) return;
  const typing = ["INPUT", "TEXTAREA", "SELECT"].includes(document.activeElement.tagName);
  if (event.key === "/" && !typing) {
    event.preventDefault();
    box.focus();
    box.select();
    return;
  }
  if (event.key !== "ArrowDown" && event.key !== "ArrowUp") return;
  const links = Array.from(document.querySelectorAll("#desk-results a.app-result"));
  if (!links.length) return;
  const index = links.indexOf(document.activeElement);
  if (document.activeElement !== box && index < 0) return;
  event.preventDefault();
  const next = event.key === "ArrowDown" ? index + 1 : index - 1;
  if (next < 0) { box.focus(); return; }
  links[Math.min(next, links.length - 1)].focus();
});

// The KC desk: "n" starts a contact, Ctrl+Enter finishes it, a picked service fills the form.
document.addEventListener("keydown", (event) => {
  const typing = ["INPUT", "TEXTAREA", "SELECT"].includes(document.activeElement.tagName);
  const start = document.getElementById("contact-start");
  if (start && !typing && event.key === "n" && !event.ctrlKey && !event.metaKey && !event.altKey) {
    event.preventDefault();
    start.requestSubmit();
  }
  const finish = document.getElementById("contact-finish");
  if (finish && event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
    event.preventDefault();
    finish.requestSubmit();
  }
});

document.addEventListener("htmx:afterSwap", () => {
  const picked = document.querySelector("#desk-facts [data-service-id]");
  const select = document.getElementById("id_service");
  if (picked && select) select.value = picked.dataset.serviceId;
});

// A running contact shows its elapsed time.
(() => {
  const clock = document.getElementById("contact-clock");
  if (!clock) return;
  const started = new Date(clock.dataset.started);
  const tick = () => {
    const seconds = Math.max(0, Math.floor((Date.now() - started) / 1000));
    const mm = String(Math.floor(seconds / 60)).padStart(2, "0");
    const ss = String(seconds % 60).padStart(2, "0");
    clock.textContent = `${mm}:${ss}`;
  };
  tick();
  setInterval(tick, 1000);
})();
