// Minimal RFC 4180 CSV reader: quoted fields, doubled quotes, CRLF or LF. The header row names the
// columns, so files may order them freely; errors name the line and the column.

export class CsvError extends Error {
  override readonly name = 'CsvError';
}

export function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  let i = 0;
  const input = text.replace(/^\uFEFF/, '');
  while (i < input.length) {
    const c = input[i] as string;
    if (quoted) {
      if (c === '"') {
        if (input[i + 1] === '"') {
          field += '"';
          i += 2;
          continue;
        }
        quoted = false;
      } else {
        field += c;
      }
      i += 1;
      continue;
    }
    if (c === '"' && field === '') quoted = true;
    else if (c === ',') {
      row.push(field);
      field = '';
    } else if (c === '\n' || c === '\r') {
      if (c === '\r' && input[i + 1] === '\n') i += 1;
      row.push(field);
      field = '';
      if (row.some((f) => f !== '')) rows.push(row);
      row = [];
    } else field += c;
    i += 1;
  }
  if (quoted) throw new CsvError(`line ${rows.length + 1}: unterminated quoted field`);
  row.push(field);
  if (row.some((f) => f !== '')) rows.push(row);
  return rows;
}

/** Rows as records keyed by the header; `required` columns must be present and non-empty. */
export function csvRecords(text: string, required: readonly string[], optional: readonly string[] = []): Record<string, string>[] {
  const [header, ...rows] = parseCsv(text);
  if (!header) throw new CsvError('header: the file is empty');
  const columns = header.map((h) => h.trim());
  for (const name of columns) {
    if (!required.includes(name) && !optional.includes(name)) throw new CsvError(`header: unknown column ${JSON.stringify(name)}`);
  }
  for (const name of required) if (!columns.includes(name)) throw new CsvError(`header: missing column ${name}`);
  return rows.map((cells, index) => {
    if (cells.length !== columns.length) throw new CsvError(`line ${index + 2}: expected ${columns.length} fields, got ${cells.length}`);
    const record: Record<string, string> = {};
    columns.forEach((name, k) => (record[name] = (cells[k] as string).trim()));
    for (const name of required) if (record[name] === '') throw new CsvError(`line ${index + 2}: ${name} is empty`);
    return record;
  });
}
