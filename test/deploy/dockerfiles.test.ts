// Static checks of the images (no Docker engine runs here): dockerfile-utils' validator as the
// lint, then what we promise of every image — multi-stage, a slim final stage without build
// tools, a non-root user, a healthcheck, and COPY sources that exist in the repository.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { DockerfileParser, type Instruction } from 'dockerfile-ast';
import { validate, ValidationSeverity } from 'dockerfile-utils';

const ROOT = join(import.meta.dirname, '..', '..');
const DOCKER_DIR = join(ROOT, 'docker');
const dockerfiles = readdirSync(DOCKER_DIR).filter((f) => f.endsWith('.Dockerfile'));

test('there is an image for the edge and for the cloud', () => {
  assert.deepEqual(dockerfiles.sort(), ['cloud.Dockerfile', 'edge.Dockerfile']);
});

for (const name of dockerfiles) {
  const text = readFileSync(join(DOCKER_DIR, name), 'utf8');
  const dockerfile = DockerfileParser.parse(text);
  const instructions = dockerfile.getInstructions();
  const froms = dockerfile.getFROMs();
  const finalStageStart = froms.at(-1)!.getRange().start.line;
  const finalStage = instructions.filter((i) => i.getRange().start.line >= finalStageStart);
  const keyword = (i: Instruction) => i.getKeyword().toUpperCase();

  test(`${name}: the Dockerfile lint reports no problems`, () => {
    const problems = validate(text).filter((d) => d.severity === ValidationSeverity.ERROR || d.severity === ValidationSeverity.WARNING);
    assert.deepEqual(problems.map((p) => `line ${p.range.start.line + 1}: ${p.message}`), []);
  });

  test(`${name}: multi-stage with a slim final stage that has no build tools`, () => {
    assert.ok(froms.length >= 2, 'a build stage and a runtime stage');
    assert.match(froms.at(-1)!.getImageName() ?? '', /^node$/);
    assert.match(froms.at(-1)!.getImageTag() ?? '', /-slim$/);
    const runs = finalStage.filter((i) => keyword(i) === 'RUN').map((i) => i.getArgumentsContent() ?? '');
    for (const run of runs) assert.doesNotMatch(run, /apt-get install|build-essential|\bg\+\+|\bgcc\b|\bmake\b|python3|npm (ci|install)/, `final stage installs build tools: ${run}`);
    assert.ok(finalStage.some((i) => keyword(i) === 'COPY' && /--from=build/.test(i.getTextContent())), 'the final stage takes the build output');
  });

  test(`${name}: runs as a non-root user and has a healthcheck`, () => {
    const users = finalStage.filter((i) => keyword(i) === 'USER').map((i) => (i.getArgumentsContent() ?? '').trim());
    assert.ok(users.length > 0, 'USER is set in the final stage');
    assert.doesNotMatch(users.at(-1)!, /^(root|0)(:|$)/);
    const healthcheck = finalStage.find((i) => keyword(i) === 'HEALTHCHECK');
    assert.ok(healthcheck, 'HEALTHCHECK in the final stage');
    assert.match(healthcheck.getTextContent(), /\/healthz/);
  });

  test(`${name}: every COPY source from the build context exists`, () => {
    for (const copy of instructions.filter((i) => keyword(i) === 'COPY' && !/--from=/.test(i.getTextContent()))) {
      const args = copy.getArguments().map((a) => a.getValue());
      for (const source of args.slice(0, -1)) {
        if (source === '.') continue;
        assert.ok(existsSync(join(ROOT, source)), `${name}: COPY ${source} does not exist`);
      }
    }
  });
}
