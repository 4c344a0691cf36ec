// Block Kit validation as Slack applies it (the limits from Slack's Block Kit reference): a
// message over them is refused with `invalid_blocks`, so ghconnect cannot pass here and fail there.
type Json = Record<string, unknown>;

export function blockKitProblems(blocks: unknown): string[] {
  const problems: string[] = [];
  if (blocks === undefined) return problems;
  let list = blocks;
  if (typeof list === "string") {
    try {
      list = JSON.parse(list);
    } catch {
      return ["blocks is not valid JSON"];
    }
  }
  if (!Array.isArray(list)) return ["blocks must be an array"];
  if (list.length > 50) problems.push(`too many blocks: ${list.length} > 50`);
  const actionIds = new Set<string>();
  const blockIds = new Set<string>();
  list.forEach((raw, i) => {
    const block = raw as Json;
    const at = `blocks[${i}]`;
    const text = (t: unknown, max: number, where: string) => {
      const s = (t as Json | undefined)?.text;
      if (typeof s !== "string" || s.length === 0) problems.push(`${where}.text must be a non-empty string`);
      else if (s.length > max) problems.push(`${where}.text is ${s.length} characters, more than ${max}`);
    };
    if (typeof block.block_id === "string") {
      if (blockIds.has(block.block_id)) problems.push(`${at}: duplicate block_id ${block.block_id}`);
      blockIds.add(block.block_id);
    }
    switch (block.type) {
      case "header":
        text(block.text, 150, `${at}.text`);
        if ((block.text as Json | undefined)?.type !== "plain_text") problems.push(`${at}.text must be plain_text`);
        break;
      case "section": {
        if (block.text === undefined && block.fields === undefined) problems.push(`${at}: a section needs text or fields`);
        if (block.text !== undefined) text(block.text, 3000, `${at}.text`);
        if (block.fields !== undefined) {
          const fields = block.fields as unknown[];
          if (!Array.isArray(fields) || fields.length > 10) problems.push(`${at}.fields: at most 10`);
          else for (const [j, f] of fields.entries()) text(f, 2000, `${at}.fields[${j}]`);
        }
        break;
      }
      case "context": {
        const elements = block.elements as unknown[];
        if (!Array.isArray(elements) || elements.length === 0 || elements.length > 10) problems.push(`${at}.elements: 1 to 10`);
        else for (const [j, e] of elements.entries()) text({ text: (e as Json).text }, 3000, `${at}.elements[${j}]`);
        break;
      }
      case "actions": {
        const elements = block.elements as unknown[];
        if (!Array.isArray(elements) || elements.length === 0 || elements.length > 25) {
          problems.push(`${at}.elements: 1 to 25`);
          break;
        }
        elements.forEach((e, j) => {
          const el = e as Json;
          const where = `${at}.elements[${j}]`;
          if (el.type !== "button") return;
          text(el.text, 75, where);
          const id = el.action_id;
          if (typeof id !== "string" || id.length > 255) problems.push(`${where}.action_id must be a string of at most 255`);
          else if (actionIds.has(id)) problems.push(`${where}: duplicate action_id ${id}`);
          else actionIds.add(id);
          if (typeof el.value === "string" && el.value.length > 2000) problems.push(`${where}.value longer than 2000`);
          if (el.style !== undefined && el.style !== "primary" && el.style !== "danger")
            problems.push(`${where}.style must be primary or danger`);
          if (typeof el.url === "string" && el.url.length > 3000) problems.push(`${where}.url longer than 3000`);
          const confirm = el.confirm as Json | undefined;
          if (confirm) {
            text(confirm.title, 100, `${where}.confirm.title`);
            text(confirm.text, 300, `${where}.confirm.text`);
            text(confirm.confirm, 30, `${where}.confirm.confirm`);
            text(confirm.deny, 30, `${where}.confirm.deny`);
          }
        });
        break;
      }
      case "divider":
        break;
      default:
        problems.push(`${at}: unsupported block type ${String(block.type)}`);
    }
  });
  return problems;
}
