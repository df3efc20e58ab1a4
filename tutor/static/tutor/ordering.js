// Ordering questions: put the lines in order by dragging them, or with each line's up and down
// buttons (keyboard: Tab to a button, Enter or Space to move the line; focus stays on it). The
// form submits the hidden inputs in their order on the page. No inline scripts (CSP).
(function () {
  function refresh(list, moved) {
    const items = Array.from(list.querySelectorAll(".order-item"));
    items.forEach((item, i) => {
      item.querySelector(".move-up").disabled = i === 0;
      item.querySelector(".move-down").disabled = i === items.length - 1;
      item.querySelector(".order-position").textContent = String(i + 1);
    });
    const status = list.parentElement.querySelector("[data-order-status]");
    if (moved && status) {
      status.textContent = `Moved to place ${items.indexOf(moved) + 1} of ${items.length}.`;
    }
  }

  document.addEventListener("click", (event) => {
    const button = event.target.closest(".move-up, .move-down");
    if (!button) return;
    const item = button.closest(".order-item");
    const list = item.parentElement;
    if (button.classList.contains("move-up") && item.previousElementSibling) {
      list.insertBefore(item, item.previousElementSibling);
    } else if (button.classList.contains("move-down") && item.nextElementSibling) {
      list.insertBefore(item.nextElementSibling, item);
    }
    refresh(list, item);
    // keep the keyboard where the learner is; move to the other button at the ends
    (button.disabled ? item.querySelector(".move-up:not([disabled]), .move-down:not([disabled])") : button)?.focus();
  });

  let dragged = null;
  document.addEventListener("dragstart", (event) => {
    dragged = event.target.closest && event.target.closest(".order-item");
    if (dragged) event.dataTransfer.effectAllowed = "move";
  });
  document.addEventListener("dragover", (event) => {
    const over = event.target.closest && event.target.closest(".order-item");
    if (!dragged || !over || over === dragged || over.parentElement !== dragged.parentElement) return;
    event.preventDefault();
    const box = over.getBoundingClientRect();
    const after = event.clientY > box.top + box.height / 2;
    over.parentElement.insertBefore(dragged, after ? over.nextElementSibling : over);
  });
  document.addEventListener("dragend", () => {
    if (dragged) refresh(dragged.parentElement, dragged);
    dragged = null;
  });

  function setup(root) {
    root.querySelectorAll && root.querySelectorAll("[data-order-list]").forEach((list) => refresh(list, null));
  }
  document.addEventListener("DOMContentLoaded", () => setup(document));
  document.addEventListener("htmx:afterSettle", (event) => setup(event.detail.elt || document));
})();
