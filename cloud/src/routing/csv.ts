// CSV import through csv-parse (RFC 4180: quoted fields, doubled quotes, newlines inside quotes,
// CRLF or LF, a UTF-8 BOM). A stray quote inside an unquoted field (`O"Brien`) is kept as a
// character, never the start of a quoted field. The header row names the columns, so files may
// order them freely; errors name the line (where the record starts) and the column.
import { CsvError as ParseError, parse } from 'csv-parse/sync';

export class CsvError extends Error {
  override readonly name = 'CsvError';
}

interface ParsedRow {
  record: string[];
  info: { lines: number };
  raw: string;
}

const lineOfRecord = new WeakMap<object, number>();

/** The file line a row or record returned by this module starts on (1 = the header). */
export function csvLine(row: object): number | undefined {
  return lineOfRecord.get(row);
}

/** Rows of cells; blank lines and rows of empty cells are skipped. Throws CsvError naming the line and column. */
export function parseCsv(text: string): string[][] {
  // One line ending for the whole file (files edited on several systems mix CRLF and LF).
  const input = text.replace(/\r\n?/g, '\n');
  let parsed: ParsedRow[];
  try {
    parsed = parse(input, {
      bom: true,
      relax_quotes: true,
      relax_column_count: true,
      skip_empty_lines: true,
      info: true,
      raw: true,
    }) as unknown as ParsedRow[];
  } catch (err) {
    throw err instanceof ParseError ? syntaxError(err, input) : err;
  }
  const rows: string[][] = [];
  for (const { record, info, raw } of parsed) {
    if (record.every((cell) => cell.trim() === '')) continue;
    // `raw` starts with the empty lines skipped before the record; `info.lines` is its last line.
    lineOfRecord.set(record, info.lines - innerLineBreaks(raw.replace(/^\n+/, '')));
    rows.push(record);
  }
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
  return rows.map((cells) => {
    const line = csvLine(cells) ?? 0;
    if (cells.length !== columns.length) throw new CsvError(`line ${line}: expected ${columns.length} fields, got ${cells.length}`);
    const record: Record<string, string> = {};
    columns.forEach((name, k) => (record[name] = (cells[k] as string).trim()));
    for (const name of required) if (record[name] === '') throw new CsvError(`line ${line}: ${name} is empty`);
    lineOfRecord.set(record, line);
    return record;
  });
}

/** Line breaks inside a record's raw text (quoted newlines), not counting the one that ends it. */
function innerLineBreaks(raw: string): number {
  const breaks = raw.split('\n').length - 1;
  return raw.endsWith('\n') ? breaks - 1 : breaks;
}

function syntaxError(err: ParseError, text: string): CsvError {
  const { code, lines, column, bytes_records: bytesRecords } = err as ParseError & { lines?: number; column?: number; bytes_records?: number };
  // An unclosed quote runs to the end of the file: name the line where its record starts.
  const line = code === 'CSV_QUOTE_NOT_CLOSED' && typeof bytesRecords === 'number' ? lineAtByte(text, bytesRecords) : lines;
  const where = [line ? `line ${line}` : '', typeof column === 'number' ? `column ${column + 1}` : ''].filter(Boolean).join(', ');
  // csv-parse's message says what went wrong; keep its reason after our own "line N" prefix.
  return new CsvError(`${where || 'csv'}: ${err.message.replace(/ at line \d+.*$/, '')}`);
}

/** The line starting right after `bytes` bytes of the UTF-8 input. */
function lineAtByte(text: string, bytes: number): number {
  const before = Buffer.from(text, 'utf8').subarray(0, bytes).toString('utf8');
  return before.split('\n').length;
}
