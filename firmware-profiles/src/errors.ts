// The one error a profile or vectors file fails with: the file, the JSON path and what was expected.
export class ProfileError extends Error {
  readonly file: string;
  readonly path: string;
  constructor(file: string, path: string, expected: string) {
    super(`${file}: ${path}: ${expected}`);
    this.name = 'ProfileError';
    this.file = file;
    this.path = path;
  }
}
