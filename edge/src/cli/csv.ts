// CSV import through csv-parse (RFC 4180: quoted fields, doubled quotes, newlines inside quotes,
// CRLF or LF, a UTF-8 BOM) → records keyed by the header row. A stray quote inside an unquoted
// field (`1,O"Brien`) is kept as a character, never the start of a quoted field that would swallow
// the following lines. Syntax errors are usage errors naming the line and the column.
import { CsvError as ParseError, parse } from 'csv-parse/sync';
import { CliError, EXIT } from './output.ts';

interface ParsedRow {
  record: string[];
  info: { lines: number };
  raw: string;
}

const lineOfRecord = new WeakMap<object, number>();

/** The file line a record returned by `parseCsv` starts on (the header is line 1). */
export function csvLine(record: object): number | undefined {
  return lineOfRecord.get(record);
}

export function parseCsv(text: string): Record<string, string>[] {
  // One line ending for the whole file (files edited on several systems mix CRLF and LF).
  const input = text.replace(/\r\n?/g, '\n');
  let parsed: ParsedRow[];
  try {
    parsed = parse(input, { bom: true, relax_quotes: true, relax_column_count: true, skip_empty_lines: true, info: true, raw: true }) as unknown as ParsedRow[];
  } catch (err) {
    throw err instanceof ParseError ? syntaxError(err, input) : err;
  }
  const rows = parsed.filter(({ record }) => record.some((cell) => cell.trim() !== ''));
  const [header, ...body] = rows;
  if (!header) return [];
  const columns = header.record.map((h) => h.trim());
  return body.map(({ record, info, raw }) => {
    const out = Object.fromEntries(columns.map((name, i) => [name, (record[i] ?? '').trim()]));
    // `raw` starts with the empty lines skipped before the record; `info.lines` is its last line.
    lineOfRecord.set(out, info.lines - innerLineBreaks(raw.replace(/^\n+/, '')));
    return out;
  });
}

/** Line breaks inside a record's raw text (quoted newlines), not counting the one that ends it. */
function innerLineBreaks(raw: string): number {
  const breaks = raw.split('\n').length - 1;
  return raw.endsWith('\n') ? breaks - 1 : breaks;
}

function syntaxError(err: ParseError, input: string): CliError {
  const { code, lines, column, bytes_records: bytesRecords } = err as ParseError & { lines?: number; column?: number; bytes_records?: number };
  // An unclosed quote runs to the end of the file: name the line where its record starts.
  const line = code === 'CSV_QUOTE_NOT_CLOSED' && typeof bytesRecords === 'number' ? Buffer.from(input, 'utf8').subarray(0, bytesRecords).toString('utf8').split('\n').length : lines;
  const where = [line ? `line ${line}` : '', typeof column === 'number' ? `column ${column + 1}` : ''].filter(Boolean).join(', ');
  return new CliError(`CSV ${where}: ${err.message.replace(/ at line \d+.*$/, '')}`, EXIT.usage, 'fix the CSV file (quote a field that holds a comma, a quote or a line break: "a ""quoted"" word")');
}
