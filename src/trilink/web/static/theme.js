/* The dark-mode toggle. Without a stored choice the page follows prefers-color-scheme;
   pressing the toggle stores "dark" or "light" in localStorage (key trilink-theme).
   Charts listen for the "trilink-theme" event to redraw in the new colours. */

const KEY = "trilink-theme";
const media = window.matchMedia("(prefers-color-scheme: dark)");

function stored() {
  try {
    return localStorage.getItem(KEY);
  } catch {
    return null;
  }
}

export function isDark() {
  const choice = document.documentElement.dataset.theme;
  if (choice === "dark") return true;
  if (choice === "light") return false;
  return media.matches;
}

function reflect(button) {
  const dark = isDark();
  button.setAttribute("aria-pressed", String(dark));
  button.title = dark ? "Dark mode is on" : "Dark mode is off";
}

export function initTheme(button) {
  reflect(button);
  button.addEventListener("click", () => {
    const next = isDark() ? "light" : "dark";
    document.documentElement.dataset.theme = next;
    try {
      localStorage.setItem(KEY, next);
    } catch {
      /* not remembered, still applied */
    }
    reflect(button);
    window.dispatchEvent(new Event("trilink-theme"));
  });
  media.addEventListener("change", () => {
    if (!stored()) {
      reflect(button);
      window.dispatchEvent(new Event("trilink-theme"));
    }
  });
}
