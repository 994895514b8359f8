// Browser scenarios of the data path (issue 10, item 3): a newcomer's file
// reaches a pipeline and its result is seen, all from the editor.
//
//   g  a file over the server's limit is refused before sending, naming the
//      limit; uploads a CSV in the Artifacts view; builds a pipeline from the palette:
//      an Input bound to the CSV in its inspector → ReadCsv → Summarize →
//      an Output named "summary"; an artifact dragged from the palette makes a
//      bound Input too, and an Input uploads a file from its inspector; runs it; sees the summary's value inline in the job's
//      outputs and in the Artifacts view, where it is filterable by pipeline
//   g2 the digits example's first run puts its trained model and its accuracy
//      (shown as a number) in the Artifacts view, where the kind filter works
//
// Registered in run.mjs (`...dataScenarios(ctx)`). The two operation
// definitions are made through the REST API: writing code in the editor is
// scenario f's subject, and it is slow.
import { assert } from './harness.mjs';

const CSV = 'site,flux\n1,2.0\n2,4.0\n3,9.0\n';
const MEAN = 5; // (2 + 4 + 9) / 3

const READ = `import csv
import io

import kiln


class ReadCsv(kiln.Operation):
    """Parses an uploaded CSV file into rows of numbers."""

    def execute(self, data):
        reader = csv.DictReader(io.StringIO(data.decode("utf-8")))
        rows = [{k: float(v) for k, v in row.items()} for row in reader]
        print(f"read {len(rows)} rows")
        return rows
`;

const SUMMARIZE = `import kiln


class Summarize(kiln.Operation):
    """Count and mean of the flux column."""

    def execute(self, rows):
        values = [row["flux"] for row in rows]
        summary = {"count": len(values), "mean": sum(values) / len(values)}
        return summary
`;

/**
 * ctx: { browser, base, api, runner, newPage, poll, dragConnection, deselect,
 * allow, executionsAvailable: () => boolean }
 */
export function dataScenarios(ctx) {
  const { base, api, runner, poll, dragConnection, deselect } = ctx;
  const T = { timeout: 60_000 };

  async function definitions(project) {
    const { body } = await api(`/projects/${project}/tree`);
    const meta = (name) =>
      Object.values(body.tree.nodes).find((n) => n.registry?.isMeta && n.attrs.name === name)?.guid;
    const ops = [];
    for (const [name, code, input, output] of [
      ['ReadCsv', READ, 'data', 'rows'],
      ['Summarize', SUMMARIZE, 'rows', 'summary'],
    ]) {
      const guid = crypto.randomUUID();
      ops.push({ op: 'create', guid, parent: body.tree.root, base: meta('Operation'), attrs: { name, code } });
      for (const [port, direction] of [
        [input, 'input'],
        [output, 'output'],
      ])
        ops.push({
          op: 'create',
          guid: crypto.randomUUID(),
          parent: guid,
          base: meta('Port'),
          attrs: { name: port, direction, dataType: 'any' },
        });
    }
    const r = await api(`/projects/${project}/branches/main/patches`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ message: 'ReadCsv and Summarize', ops }),
    });
    assert(r.status === 201, `the definitions were committed, got ${r.status} ${JSON.stringify(r.body)}`);
  }

  return {
    async g_data_upload_to_result({ skip }) {
      const project = 'survey';
      const created = await api('/projects', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ name: project, description: 'A CSV of measurements, summarized' }),
      });
      assert(created.status === 201, `project created, got ${created.status}`);
      await definitions(project);
      const { page, errors } = await ctx.newPage(ctx.browser, base, { allow: ctx.allow });
      const tree = async () => (await api(`/projects/${project}/tree`)).body.tree;

      // A server with a limit (faked here: /health as `kiln serve --max-artifact-mb`
      // reports it) refuses a larger file before a byte is sent, naming the limit.
      const posts = [];
      page.on('request', (r) => r.method() === 'POST' && /\/artifacts\?/.test(r.url()) && posts.push(r.url()));
      await page.route('**/api/v1/health', (r) => r.fulfill({ json: { status: 'ok', max_artifact_bytes: 16 } }));
      await page.goto(`${base}/#/p/${project}/artifacts`);
      await page.locator('[data-testid=artifacts-empty]').waitFor(T);
      await page.locator('[data-testid=artifact-file]').setInputFiles({
        name: 'measurements.csv',
        mimeType: 'text/csv',
        buffer: Buffer.from(CSV),
      });
      const refusal = page.locator('[data-testid=upload] .form-error');
      await refusal.waitFor(T);
      const said = await refusal.innerText();
      assert(/limit of 16 B/.test(said) && /--max-artifact-mb/.test(said), `the refusal names the limit and the option, got "${said}"`);
      assert(posts.length === 0, `nothing was sent, got ${posts}`);
      await page.screenshot({ path: runner.shotPath('g0-over-limit') });
      await page.unroute('**/api/v1/health');
      await page.reload();

      // Upload the CSV in the Artifacts view.
      await page.locator('[data-testid=artifacts-empty]').waitFor(T);
      await page.locator('[data-testid=artifact-file]').setInputFiles({
        name: 'measurements.csv',
        mimeType: 'text/csv',
        buffer: Buffer.from(CSV),
      });
      await page.locator('[data-testid="artifact-measurements.csv"]').waitFor(T);
      const origin = await page.locator('[data-testid="artifact-measurements.csv"] [data-testid=artifact-origin]').innerText();
      assert(/uploaded/.test(origin), `the CSV says it was uploaded, got "${origin}"`);
      await page.screenshot({ path: runner.shotPath('g1-uploaded-csv') });

      // A pipeline: an Input from the palette, bound to the CSV in its inspector.
      await page.locator('[data-testid=sync-status]:has-text("Live")').waitFor(T);
      await page.getByRole('button', { name: 'New pipeline' }).click();
      await page.locator('.palette').waitFor(T);
      const pname = page.locator('[aria-label="Pipeline name"]');
      await pname.fill('Survey');
      await pname.press('Enter');
      await page.getByRole('button', { name: 'Add Input' }).click();
      await page.locator('[data-testid=graph-node][data-title=Input]').waitFor(T);
      await page.locator('[data-testid=input-binding]').waitFor(T);
      await page.screenshot({ path: runner.shotPath('g2-input-unbound') });
      const choice = page.locator('[data-testid=input-artifact] option', { hasText: 'measurements.csv' });
      await choice.waitFor({ state: 'attached', ...T });
      await page.locator('[data-testid=input-artifact]').selectOption((await choice.getAttribute('value')) ?? '');
      // Bound: renamed after what it reads.
      await page.locator('[data-testid=graph-node][data-title=measurements]').waitFor(T);
      await page.locator('[data-testid=input-bound]').waitFor(T);
      await page.screenshot({ path: runner.shotPath('g3-input-bound') });

      // The two operations and an Output named "summary".
      for (const name of ['ReadCsv', 'Summarize', 'Output']) {
        await page.getByRole('button', { name: `Add ${name}` }).click();
        await page.locator(`[data-testid=graph-node][data-title=${name}]`).waitFor(T);
      }
      await page.locator('[data-testid=output-hint]').waitFor(T);
      const nameField = page.locator('[data-testid=inspector] .field:has-text("Name") input').first();
      await nameField.fill('summary');
      await nameField.press('Enter');
      await page.locator('[data-testid=graph-node][data-title=summary]').waitFor(T);

      // An artifact dragged from the palette onto the canvas is an Input reading it (then deleted again).
      await deselect(page);
      await page.dragAndDrop('[data-testid="palette-artifact-measurements.csv"]', '.react-flow__pane', {
        targetPosition: { x: 200, y: 420 },
      });
      const dropped = page.locator('[data-testid=graph-node][data-title="measurements 2"]');
      await dropped.waitFor(T);
      assert(!/no artifact chosen/.test(await dropped.innerText()), 'the dropped Input is bound');
      await deselect(page);
      await dropped.locator('.port-node-title').click();
      await page.keyboard.press('Delete');
      await dropped.waitFor({ state: 'detached', ...T });

      // An Input uploads its own file from its inspector (then deleted again).
      await deselect(page);
      await page.getByRole('button', { name: 'Add Input' }).click();
      await page.locator('[data-testid=graph-node][data-title=Input]').waitFor(T);
      await page.locator('[data-testid=input-file]').setInputFiles({
        name: 'extra.csv',
        mimeType: 'text/csv',
        buffer: Buffer.from('site,flux\n1,1.0\n'),
      });
      const extra = page.locator('[data-testid=graph-node][data-title=extra]');
      await extra.waitFor(T);
      await page.locator('[data-testid="palette-artifact-extra.csv"]').waitFor(T);
      await page.screenshot({ path: runner.shotPath('g4-input-uploaded') });
      await deselect(page);
      await extra.locator('.port-node-title').click();
      await page.keyboard.press('Delete');
      await extra.waitFor({ state: 'detached', ...T });

      // Wire it: measurements → ReadCsv → Summarize → summary.
      await deselect(page);
      await page.getByRole('button', { name: 'Auto layout' }).click();
      await page.waitForTimeout(300);
      await page.keyboard.press('f');
      await page.waitForTimeout(600);
      for (const [i, [from, to]] of [
        [['measurements', 'data'], ['ReadCsv', 'data']],
        [['ReadCsv', 'rows'], ['Summarize', 'rows']],
        [['Summarize', 'summary'], ['summary', 'data']],
      ].entries()) {
        const release = await dragConnection(page, from, to);
        await release();
        await poll(async () => (await page.locator('.react-flow__edge').count()) === i + 1, `connection ${i + 1}`);
      }
      await page.screenshot({ path: runner.shotPath('g5-pipeline-wired') });
      await poll(
        async () => {
          const t = await tree();
          const pipe = Object.values(t.nodes).find((n) => n.attrs.name === 'Survey');
          return pipe && Object.values(t.nodes).filter((n) => n.parent === pipe.guid && n.pointers?.src).length === 3;
        },
        'three connections on the server',
      );

      if (!ctx.executionsAvailable()) {
        skip('the server has no executions API: the pipeline was built but not run');
        return;
      }
      // Run; every job turns green; Summarize's outputs show the value.
      await page.locator('[data-testid=run]').click();
      // Fail fast, with the reason shown, when a job fails.
      const state = page.locator('[data-testid=execution-state]');
      await poll(async () => /succeeded|failed|cancelled/i.test((await state.innerText().catch(() => '')) ?? ''), 'the run to end', 180_000);
      const ended = await state.innerText();
      const reasons = await page.locator('[role=alert], .job-reason').allInnerTexts();
      assert(/succeeded/i.test(ended), `the run succeeded, got "${ended}": ${reasons.join(' | ')}`);
      await page.locator('[data-testid=graph-node][data-title=Summarize] .port-node-title').click();
      await page.getByRole('tab', { name: /Outputs/ }).click();
      const value = page.locator('[data-testid=output-summary] [data-testid=output-value] code');
      await value.waitFor(T);
      const shown = await value.innerText();
      assert(shown === `{"count":3,"mean":${MEAN}}`, `the summary's value is shown inline, got "${shown}"`);
      await page.screenshot({ path: runner.shotPath('g6-summary-inline') });

      // The Artifacts view: the summary, from the Survey pipeline, filterable.
      await page.locator('.sidebar a:has-text("Artifacts")').click();
      const row = page.locator('[data-testid=artifact-summary]').first();
      await row.waitFor(T);
      const listed = (await api(`/projects/${project}/artifacts`)).body.artifacts;
      const summary = listed.find((a) => a.name === 'summary');
      assert(summary, `the server lists the summary artifact, got ${listed.map((a) => a.name)}`);
      // The value the server sends (or, from an older server, the bytes fetched).
      const cell = row.locator('[data-testid=artifact-value] code');
      await cell.waitFor(T);
      const text = await cell.innerText();
      assert(text.includes(`"mean":${MEAN}`), `the artifacts view shows the summary's value, got "${text}"`);
      if (summary.origin?.kind === 'job') {
        const from = await row.locator('[data-testid=artifact-origin]').innerText();
        assert(/Survey/.test(from), `the summary says which pipeline made it, got "${from}"`);
        const option = page.locator('[data-testid=filter-pipeline] option', { hasText: 'Survey' });
        await page.locator('[data-testid=filter-pipeline]').selectOption((await option.getAttribute('value')) ?? '');
        await poll(
          async () => (await page.locator('[data-testid="artifact-measurements.csv"]').count()) === 0,
          'the pipeline filter hides the upload',
        );
      }
      await page.screenshot({ path: runner.shotPath('g7-artifacts'), fullPage: true });
      assert(errors.length === 0, `no console errors:\n${errors.join('\n')}`);
    },

    async g2_digits_artifacts({ skip }) {
      const listed = async () => (await api('/projects/digits/artifacts')).body?.artifacts ?? [];
      if (!ctx.executionsAvailable()) {
        skip('the server has no executions API');
        return;
      }
      // Run digits unless an earlier scenario did (a cached run lists the same outputs).
      if (!(await listed()).some((a) => a.name === 'model')) {
        const { body } = await api('/projects/digits/tree');
        const pipeline = Object.values(body.tree.nodes).find((n) => n.attrs.name === 'Digits classifier');
        const started = await api('/projects/digits/executions', {
          method: 'POST',
          headers: { 'Content-Type': 'application/json' },
          body: JSON.stringify({ pipeline: pipeline.guid }),
        });
        assert(started.status === 201, `digits started, got ${started.status}`);
        await poll(
          async () => ['succeeded', 'failed', 'cancelled'].includes((await api(`/executions/${started.body.id}`)).body?.state),
          'the digits run to end',
          240_000,
        );
      }
      const all = await listed();
      if (!all.some((a) => a.origin)) {
        skip('this server does not list job outputs with their origin yet');
        return;
      }
      const { page, errors } = await ctx.newPage(ctx.browser, base, { allow: ctx.allow });
      await page.goto(`${base}/#/p/digits/artifacts`);
      const model = page.locator('[data-testid=artifact-model]').first();
      await model.waitFor(T);
      const from = await model.locator('[data-testid=artifact-origin]').innerText();
      assert(/model/.test(from) && /Train/.test(from) && /Digits classifier/.test(from), `the model says where it came from, got "${from}"`);
      const accuracy = page.locator('[data-testid=artifact-accuracy] [data-testid=artifact-value] code').first();
      await accuracy.waitFor(T);
      const value = Number(await accuracy.innerText());
      assert(value > 0.5 && value <= 1, `the accuracy is shown as a number, got "${await accuracy.innerText()}"`);
      await page.locator('[data-testid=filter-kind]').selectOption('json');
      await poll(async () => (await page.locator('[data-testid=artifact-model]').count()) === 0, 'the kind filter hides the model');
      assert((await page.locator('[data-testid=artifact-accuracy]').count()) >= 1, 'json artifacts stay');
      await page.screenshot({ path: runner.shotPath('g8-digits-artifacts'), fullPage: true });
      assert(errors.length === 0, `no console errors:\n${errors.join('\n')}`);
    },
  };
}
