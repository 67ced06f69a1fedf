// Small line icons built as SVG elements (no icon font, no inline markup strings).

const SVG = 'http://www.w3.org/2000/svg';
const PATHS = {
  pencil: ['M4 20h4L18.5 9.5a2.1 2.1 0 0 0-4-4L4 16v4z', 'M13.5 6.5l4 4'],
  trash: ['M4 7h16', 'M10 11v6', 'M14 11v6', 'M6 7l1 12a2 2 0 0 0 2 2h6a2 2 0 0 0 2-2l1-12', 'M9 7V4h6v3'],
  menu: ['M4 6h16', 'M4 12h16', 'M4 18h16'],
  sliders: ['M4 7h10', 'M18 7h2', 'M4 17h4', 'M12 17h8', 'M16 5v4', 'M10 15v4'],
  close: ['M6 6l12 12', 'M18 6L6 18'],
};

/** An aria-hidden SVG icon by name; the button that holds it carries the label. */
export function icon(name) {
  const svg = document.createElementNS(SVG, 'svg');
  svg.setAttribute('viewBox', '0 0 24 24');
  svg.setAttribute('aria-hidden', 'true');
  svg.setAttribute('class', 'icon');
  for (const d of PATHS[name]) {
    const path = document.createElementNS(SVG, 'path');
    path.setAttribute('d', d);
    svg.append(path);
  }
  return svg;
}
