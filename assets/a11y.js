/* Accessible names for the parts of Dash's own components that have none (issue 22, RGAA 11.1 / WCAG 4.1.2),
   in French: the data tables' page buttons, the dropdowns' button and keyboard entry (named by the page's
   <label for>; the entry was aria-hidden yet focusable: Tab lands on it, so it is named, not hidden), the
   upload's file input, the tables' filter boxes; checklists as named groups of check boxes; tables that scroll
   in their box focusable. Re-applied whenever Dash renders (a MutationObserver), never changing what is already
   right. Also two keyboard fixes: letters typed in an open dropdown go to its search box, and « Aller au
   contenu » moves the focus without going through Dash's router. */
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
    // A table's filter boxes: each named after its column (Dash gives them all one English placeholder)
    root.querySelectorAll("th.dash-filter[data-dash-column]").forEach(cell => {
      const table = cell.closest("table");
      const header = table && table.querySelector("th.dash-header[data-dash-column='" +
        CSS.escape(cell.dataset.dashColumn) + "']");
      const column = header ? header.textContent.trim() : cell.dataset.dashColumn;
      cell.querySelectorAll("input").forEach(input => {
        if (!input.classList.contains("dash-filter--case")) {
          set(input, "aria-label", "Filtrer la colonne « " + column + " »");
          return;
        }
        // the « Aa » case toggle kept the focus on Tab (a keyboard trap, WCAG 2.1.2): out of the tab order, the
        // filters ignore case by default (filter_options), and the mouse can still switch it
        set(input, "aria-label", "Respecter les majuscules : " + column);
        set(input, "tabindex", "-1");
      });
    });
    root.querySelectorAll("input[type=file]").forEach(i => { if (!i.getAttribute("aria-label"))
      set(i, "aria-label", "Choisir un fichier à téléverser"); });
    // A checklist is a group of check boxes, not a list box of options that hold check boxes (nested-interactive):
    // named by its fieldset's legend, or the label naming its id.
    root.querySelectorAll(".dash-checklist").forEach(list => {
      set(list, "role", "group");
      const legend = list.closest("fieldset") && list.closest("fieldset").querySelector("legend");
      const label = document.querySelector("label[for='" + CSS.escape(list.id || "") + "']");
      const name = (legend || label || {}).textContent;
      if (name && name.trim()) set(list, "aria-label", name.trim());
      list.querySelectorAll("[role='option'], [aria-selected]").forEach(o => { o.removeAttribute("role");
        o.removeAttribute("aria-selected"); });
    });
    // A table or a wide chart that scrolls inside its box, with nothing to focus in it, could not be scrolled
    // without a mouse (scrollable-region-focusable): it takes the focus (arrows scroll it), named after its card.
    // Regions' names are unique on the page (landmark-unique): a second one with the same card gets « (2) ».
    const named = new Map();
    root.querySelectorAll(".dash-spreadsheet-container, .table-responsive, .obs-chart-wide").forEach(box => {
      const scrolls = box.scrollWidth > box.clientWidth + 1 || box.scrollHeight > box.clientHeight + 1;
      const inner = box.querySelector("a[href], button, input, select, textarea, [tabindex]:not([tabindex='-1'])");
      if (box.hasAttribute("role") && !box.dataset.obsScroll) {
        // a chart's own box (role « figure », described by its sentence and table): focusable, its role kept
        if (scrolls && !inner) set(box, "tabindex", "0");
        else if (box.getAttribute("tabindex") === "0" && inner) box.removeAttribute("tabindex");
        return;
      }
      if (scrolls && !inner) {
        const card = box.closest(".obs-card");
        const heading = card && card.querySelector("h2, h3, h4, .h4, .h5");
        let name = "Tableau défilant" + (heading ? " : " + heading.textContent.trim() : "");
        const seen = (named.get(name) || 0) + 1;
        named.set(name, seen);
        if (seen > 1) name += " (" + seen + ")";
        set(box, "tabindex", "0");
        set(box, "role", "region");
        set(box, "aria-label", name);
        box.dataset.obsScroll = "1";
      } else if (box.dataset.obsScroll) {
        ["tabindex", "role", "aria-label", "data-obs-scroll"].forEach(a => box.removeAttribute(a));
      }
    });
  }
  let pending = false;
  function schedule() {
    if (pending) return;
    pending = true;
    requestAnimationFrame(() => { pending = false; fix(document); });
  }
  // attributes too: Dash sets a ticked box's aria-selected again on the label it no longer names an option
  // Plotly redraws inside its <svg> on every mouse move (hover labels): nothing there is ours to fix, so those
  // changes do not start a pass (each pass reads the page's layout to find boxes that scroll)
  const inSvg = record => record.target.closest && record.target.closest("svg");
  new MutationObserver(records => { if (!records.every(inSvg)) schedule(); })
    .observe(document.documentElement, {childList: true, subtree: true,
    attributes: true, attributeFilter: ["role", "aria-selected", "aria-hidden"]});
  // In an open dropdown, typing a letter on a choice goes to its « Rechercher » box (Dash focuses the current choice
  // on opening, where letters did nothing): the letter lands in the box and filters the list.
  document.addEventListener("keydown", event => {
    const menu = event.target.closest && event.target.closest(".dash-dropdown-content");
    if (!menu || event.key.length !== 1 || event.key === " " || event.ctrlKey || event.metaKey || event.altKey) return;
    const search = menu.querySelector("input.dash-dropdown-search");
    if (search && event.target !== search) search.focus();
  }, true);
  // « Aller au contenu » moves the focus to the content without touching the URL: a « #contenu » in it made Dash's
  // page router draw the page again (the view's choices lost, the focus back on <body>).
  document.addEventListener("click", event => {
    const skip = event.target.closest && event.target.closest("a.skip-link");
    const main = document.getElementById("contenu");
    if (!skip || !main) return;
    event.preventDefault();
    main.focus();
    main.scrollIntoView();
  });
  window.addEventListener("resize", schedule);
  document.addEventListener("DOMContentLoaded", () => fix(document));
})();
