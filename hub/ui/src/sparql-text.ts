// SPARQL text helpers of the UI: telling an update from a query (an update goes as `update` with the write token).

/** Whether the text is a SPARQL Update (after its prologue and comments), to be sent as `update` with the token. */
export function isUpdate(text: string): boolean {
  const body = text
    .replace(/<[^<>"{}|^`\\\s]*>/g, '<>')
    .replace(/"(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*'/g, '""')
    .replace(/#[^\n]*/g, '')
    .replace(/\b(PREFIX\s+[\w.-]*:\s*<>|BASE\s*<>)/gi, '')
    .trim();
  return /^(INSERT|DELETE|LOAD|CLEAR|CREATE|DROP|COPY|MOVE|ADD|WITH)\b/i.test(body);
}
