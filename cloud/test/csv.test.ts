// The cloud's CSV reader (csv-parse underneath): RFC 4180 quoting, a BOM, and the O"Brien case,
// with errors that name the line a record starts on.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CsvError, csvLine, csvRecords, parseCsv } from '../src/routing/csv.ts';

test('quoted fields, embedded quotes and commas, newlines in fields, CRLF, blank lines', () => {
  const rows = parseCsv('id,name,note\r\n1,"Wang, Wei","say ""hi"""\r\n\r\n2,"two\nlines",x\n3,plain,\n');
  assert.deepEqual(rows, [
    ['id', 'name', 'note'],
    ['1', 'Wang, Wei', 'say "hi"'],
    ['2', 'two\nlines', 'x'],
    ['3', 'plain', ''],
  ]);
  assert.deepEqual(rows.map((r) => csvLine(r)), [1, 2, 4, 6], 'the line each record starts on');
});

test('a UTF-8 BOM is not part of the first column name', () => {
  const [record] = csvRecords('\uFEFFid,name\n1,李娜\n', ['id', 'name']);
  assert.deepEqual(record, { id: '1', name: '李娜' });
});

test('a quote inside an unquoted field is a character and swallows nothing (1,O"Brien)', () => {
  const records = csvRecords('id,name\n1,O"Brien\n2,Smith\n3,Lee\n', ['id', 'name']);
  assert.deepEqual(records, [
    { id: '1', name: 'O"Brien' },
    { id: '2', name: 'Smith' },
    { id: '3', name: 'Lee' },
  ]);
});

test('errors name the line the record starts on, after a multi-line field', () => {
  const text = 'id,name\n1,"two\nlines"\n,nobody\n';
  assert.throws(() => csvRecords(text, ['id', 'name']), (err: Error) => err instanceof CsvError && err.message === 'line 4: id is empty');
  assert.throws(() => csvRecords('id,name\n1,a,extra\n', ['id', 'name']), /^CsvError: line 2: expected 2 fields, got 3$/);
});

test('an unclosed quote names its line and column', () => {
  assert.throws(() => parseCsv('id,name\n1,ok\n2,"never closed\n3,x\n'), (err: Error) => err instanceof CsvError && /^line 3, column 2: Quote Not Closed/.test(err.message));
});

test('the header is checked: unknown and missing columns, an empty file', () => {
  assert.throws(() => csvRecords('id,nmae\n1,x\n', ['id', 'name']), /header: unknown column "nmae"/);
  assert.throws(() => csvRecords('id\n1\n', ['id', 'name']), /header: missing column name/);
  assert.throws(() => csvRecords('\n\n', ['id']), /header: the file is empty/);
});
