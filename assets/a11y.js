/* Accessible names for the parts of Dash's own components that have none (issue 22, RGAA 11.1 / WCAG 4.1.2),
   in French: the data tables' page buttons, the dropdowns' button and keyboard entry (named by the page's
   <label for>; the entry was aria-hidden yet focusable: Tab lands on it, so it is named, not hidden), the
   upload's file input; checklists as named groups of check boxes. Re-applied whenever Dash renders (a MutationObserver), never changing what is already right. */
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
    root.querySelectorAll("button.dash-dropdown[id]").forEach(b => {
      const label = document.querySelector("label[for='" + CSS.escape(b.id) + "']");
      if (!label || !label.textContent.trim()) return;
      set(b, "aria-label", label.textContent.trim());
      // the dropdown's keyboard entry (Tab lands on it): announced with the dropdown's name, not hidden
      const target = b.closest(".dash-dropdown-wrapper") &&
        b.closest(".dash-dropdown-wrapper").querySelector("input.dash-dropdown-focus-target");
      if (target) {
        if (target.hasAttribute("aria-hidden")) target.removeAttribute("aria-hidden");
        set(target, "aria-label", label.textContent.trim());
        set(target, "aria-haspopup", "listbox");
      }
    });
    root.querySelectorAll("input[type=file]").forEach(i => { if (!i.getAttribute("aria-label"))
      set(i, "aria-label", "Choisir un fichier à téléverser"); });
    // A checklist is a group of check boxes, not a list box of options that hold check boxes (nested-interactive):
    // named by its fieldset's legend, or the label naming its id.
    root.querySelectorAll(".dash-checklist[role='listbox']").forEach(list => {
      set(list, "role", "group");
      const legend = list.closest("fieldset") && list.closest("fieldset").querySelector("legend");
      const label = document.querySelector("label[for='" + CSS.escape(list.id || "") + "']");
      const name = (legend || label || {}).textContent;
      if (name && name.trim()) set(list, "aria-label", name.trim());
      list.querySelectorAll("[role='option']").forEach(o => { o.removeAttribute("role");
        o.removeAttribute("aria-selected"); });
    });
  }
  let pending = false;
  new MutationObserver(() => {
    if (pending) return;
    pending = true;
    requestAnimationFrame(() => { pending = false; fix(document); });
  }).observe(document.documentElement, {childList: true, subtree: true});
  document.addEventListener("DOMContentLoaded", () => fix(document));
})();
