/** Tiny DOM helpers (no innerHTML with data: text only). */

type Attrs = Record<string, string | number | boolean | undefined | null>;
type Child = Node | string | number | null | undefined | false;

export function h<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Attrs = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') el.className = String(v);
    else if (k === 'text') el.textContent = String(v);
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children) append(el, c);
  return el;
}

export function append(el: Node, c: Child): void {
  if (c === null || c === undefined || c === false) return;
  el.appendChild(typeof c === 'string' || typeof c === 'number' ? document.createTextNode(String(c)) : c);
}

export function clear(el: Element): void {
  while (el.firstChild) el.removeChild(el.firstChild);
}

export function byId<T extends HTMLElement = HTMLElement>(id: string): T {
  const el = document.getElementById(id);
  if (!el) throw new Error(`missing #${id}`);
  return el as T;
}

/** A small form asking for the API key; calls `onKey` with what was entered. */
export function keyForm(onKey: (key: string) => void, note?: string): HTMLElement {
  const input = h('input', { type: 'password', id: 'api-key-input', name: 'apiKey', placeholder: 'API key', autocomplete: 'off', 'data-testid': 'api-key-input', required: true });
  const form = h(
    'form',
    { class: 'key-form', id: 'key-form', 'data-testid': 'key-form' },
    h('label', { for: 'api-key-input' }, 'Replay API key'),
    input,
    h('button', { type: 'submit' }, 'Save'),
    h('span', { class: 'hint' }, note ?? 'printed by ./rewind demo; stored in .rewind/api-key'),
  );
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const v = input.value.trim();
    if (v) onKey(v);
  });
  return form;
}

export function badge(text: string, cls: string, testid?: string): HTMLElement {
  return h('span', { class: `badge ${cls}`, 'data-testid': testid }, text);
}
