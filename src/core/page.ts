// The small HTML page the data planes answer with themselves (maintenance, a body too large, an answer
// too slow): the same words on both, escaped, with nothing internal in it.
export function htmlPage(title: string, message: string): string {
  return `<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width"><title>${escapeHtml(title)}</title></head>\n<body style="font-family:sans-serif;max-width:40em;margin:4em auto;padding:0 1em"><h1>${escapeHtml(title)}</h1><p>${escapeHtml(message)}</p></body></html>\n`;
}

export const MAINTENANCE_TITLE = 'Down for maintenance';

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
