// Small behaviours shared by every page. No inline scripts: the CSP forbids them.

// Keyboard focus follows the change, so keyboard and screen-reader users land where it happened
// and never back at the top of the page:
// - new content that marks a control with data-autofocus gets the focus there (the next
//   question's answer box or choices, the reply box of a tutor's message);
// - otherwise, when the focused control was swapped away (a button that is gone), the swapped
//   region itself takes the focus, so the next Tab continues from there.
// htmx keeps the focus itself on a control with the same id in the new content (the chat box).
document.addEventListener("htmx:afterSettle", (event) => {
  let region = event.detail.target;
  // an outerHTML swap replaced the target: find its successor by id
  if (region && !region.isConnected && region.id) region = document.getElementById(region.id);
  if (!region || !region.isConnected) return;
  const wanted = region.querySelector("[data-autofocus]");
  if (wanted) {
    wanted.focus();
    return;
  }
  const active = document.activeElement;
  if (!active || active === document.body || !active.isConnected) {
    if (!region.hasAttribute("tabindex")) region.setAttribute("tabindex", "-1");
    region.focus();
  }
});
