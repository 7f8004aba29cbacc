/* Accessible names for the parts of Dash's own components that have none (issue 22, RGAA 11.1 / WCAG 4.1.2),
   in French: the data tables' page buttons, the dropdowns' button (named by the page's <label for>), the
   upload's file input; and the dropdowns' hidden focus helper taken out of the tab order (aria-hidden yet
   focusable). Re-applied whenever Dash renders (a MutationObserver), never changing what is already right. */
(function () {
  const PAGES = {"first-page": "Première page", "previous-page": "Page précédente", "next-page": "Page suivante",
                 "last-page": "Dernière page"};
  function set(element, name, value) {
    if (element.getAttribute(name) !== value) element.setAttribute(name, value);
  }
  function fix(root) {
    for (const [cls, label] of Object.entries(PAGES)) {
      root.querySelectorAll("button." + cls).forEach(b => set(b, "aria-label", label));
    }
    root.querySelectorAll("input.dash-dropdown-focus-target[aria-hidden='true']").forEach(i => set(i, "tabindex", "-1"));
    root.querySelectorAll("button.dash-dropdown[id]").forEach(b => {
      const label = document.querySelector("label[for='" + CSS.escape(b.id) + "']");
      if (label && label.textContent.trim()) set(b, "aria-label", label.textContent.trim());
    });
    root.querySelectorAll("input[type=file]").forEach(i => { if (!i.getAttribute("aria-label"))
      set(i, "aria-label", "Choisir un fichier à téléverser"); });
  }
  let pending = false;
  new MutationObserver(() => {
    if (pending) return;
    pending = true;
    requestAnimationFrame(() => { pending = false; fix(document); });
  }).observe(document.documentElement, {childList: true, subtree: true});
  document.addEventListener("DOMContentLoaded", () => fix(document));
})();
