// Small behaviours shared by every page. No inline scripts: the CSP forbids them.
document.addEventListener("htmx:afterSwap", (event) => {
  // Move keyboard focus to the new content when a swap asks for it, so screen-reader and
  // keyboard users land where the change happened.
  const target = event.detail.target.querySelector("[data-autofocus]");
  if (target) target.focus();
});
