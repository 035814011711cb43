// The installer CLI's CSV reader (csv-parse underneath): RFC 4180 quoting, a BOM, the O"Brien
// case that used to swallow the following lines, and usage errors naming the line and column.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { csvLine, parseCsv } from '../src/cli/csv.ts';
import { CliError, EXIT } from '../src/cli/output.ts';

test('quoted fields, embedded quotes and commas, newlines in fields, CRLF, blank lines', () => {
  const records = parseCsv('id,profile,address_id\r\n"smoke-1","generic/smoke-mqtt","FT ""A"", 2"\r\n\r\nsmoke-2,generic/smoke-mqtt,"two\nlines"\nsmoke-3,generic/smoke-mqtt,\n');
  assert.deepEqual(records, [
    { id: 'smoke-1', profile: 'generic/smoke-mqtt', address_id: 'FT "A", 2' },
    { id: 'smoke-2', profile: 'generic/smoke-mqtt', address_id: 'two\nlines' },
    { id: 'smoke-3', profile: 'generic/smoke-mqtt', address_id: '' },
  ]);
  assert.deepEqual(records.map((r) => csvLine(r)), [2, 4, 6], 'the line each record starts on');
});

test('a UTF-8 BOM is not part of the first column name', () => {
  assert.deepEqual(parseCsv('\uFEFFid,profile\nsmoke-1,generic/smoke-mqtt\n'), [{ id: 'smoke-1', profile: 'generic/smoke-mqtt' }]);
});

test('1,O"Brien keeps the quote and swallows no later line', () => {
  assert.deepEqual(parseCsv('id,name\n1,O"Brien\n2,Smith\n3,Lee\n'), [
    { id: '1', name: 'O"Brien' },
    { id: '2', name: 'Smith' },
    { id: '3', name: 'Lee' },
  ]);
});

test('an unclosed quote is a usage error naming its line and column', () => {
  assert.throws(
    () => parseCsv('id,name\n1,ok\n2,"never closed\n3,x\n'),
    (err: Error) => err instanceof CliError && err.exitCode === EXIT.usage && /^CSV line 3, column 2: Quote Not Closed/.test(err.message),
  );
});

test('an empty file has no records', () => {
  assert.deepEqual(parseCsv(''), []);
  assert.deepEqual(parseCsv('id,profile\n'), []);
});
