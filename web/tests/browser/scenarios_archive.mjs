// Browser scenario of project archives (issue 13): a project leaves the
// server as one file and comes back as a new project, all from the projects
// page.
//
//   k  exports "lab-notes" (two branches) from its card: the download is
//      lab-notes.kiln, byte for byte what the server exports; imports that
//      file: the name suggested is a free one (lab-notes-2), the new project
//      is listed and marked, with both branches; a name taken behind the
//      page's back is refused (409) and a damaged file is refused (400), each
//      with a message that says so, and nothing is created
//
// Registered in run.mjs (`...archiveScenarios(ctx)`).
import { readFileSync } from 'node:fs';
import { assert } from './harness.mjs';

/** ctx: { browser, base, api, runner, newPage, allow } */
export function archiveScenarios(ctx) {
  const { base, api, runner } = ctx;
  const T = { timeout: 60_000 };
  const json = (body) => ({ method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });

  return {
    async k_project_archive() {
      const created = await api('/projects', json({ name: 'lab-notes', description: 'Notes of the lab, archived' }));
      assert(created.status === 201, `project created, got ${created.status}`);
      const branched = await api('/projects/lab-notes/branches', json({ name: 'exp', from: 'main' }));
      assert(branched.status === 201, `branch created, got ${branched.status}`);

      // The refusals below are answered 409 and 400 on purpose; Chromium logs them as failed loads.
      const expected = (t) => ctx.allow(t) || (/status of (409|400)/.test(t) && /\/api\/v1\/projects\/import/.test(t));
      const { page, errors } = await ctx.newPage(ctx.browser, base, { allow: expected });
      await page.locator('[data-testid=open-lab-notes]').waitFor(T);

      // Export from the card: saved as lab-notes.kiln, the server's archive unchanged.
      const [download] = await Promise.all([page.waitForEvent('download', T), page.locator('[data-testid=export-lab-notes]').click()]);
      assert(download.suggestedFilename() === 'lab-notes.kiln', `saved as lab-notes.kiln, got "${download.suggestedFilename()}"`);
      const file = await download.path();
      assert(file, 'the download finished');
      const saved = readFileSync(file);
      const served = Buffer.from(await (await fetch(`${base}/api/v1/projects/lab-notes/export`)).arrayBuffer());
      assert(saved.length > 0 && saved.equals(served), `the saved archive is the server's (${saved.length} vs ${served.length} bytes)`);

      // Import it (under the name it was saved as; Playwright keeps downloads
      // under random names): a free name is suggested, and the new project is
      // listed and marked.
      const archive = { name: 'lab-notes.kiln', mimeType: 'application/octet-stream', buffer: saved };
      await page.locator('[data-testid=import-file]').setInputFiles(archive);
      const dialog = page.getByRole('dialog');
      await dialog.waitFor(T);
      const nameInput = dialog.locator('input[name=import-name]');
      assert((await nameInput.inputValue()) === 'lab-notes-2', `a free name suggested, got "${await nameInput.inputValue()}"`);
      await page.screenshot({ path: runner.shotPath('k1-import-dialog') });
      await dialog.locator('[data-testid=import-submit]').click();
      await page.locator('[data-testid="project-lab-notes-2"].just-imported').waitFor(T);
      const notice = await page.locator('.toast').innerText();
      assert(/Imported “lab-notes-2” with its history \(\d+ objects\)/.test(notice), `the notice sums up the import, got "${notice}"`);
      await page.screenshot({ path: runner.shotPath('k2-imported') });
      const copy = await api('/projects/lab-notes-2');
      const branches = (copy.body?.branches ?? []).map((b) => b.name).sort();
      assert(copy.status === 200 && branches.join() === 'exp,main', `the copy has main and exp, got ${copy.status} ${branches}`);

      // A name taken after the page loaded: the server's 409, said plainly; the dialog stays to fix the name.
      assert((await api('/projects', json({ name: 'late-arrival' }))).status === 201, 'late-arrival created');
      await page.locator('[data-testid=import-file]').setInputFiles(archive);
      await dialog.waitFor(T);
      await nameInput.fill('late-arrival');
      await dialog.locator('[data-testid=import-submit]').click();
      const taken = await dialog.locator('[data-testid=import-error]').innerText(T);
      assert(taken === 'A project named “late-arrival” exists. Choose another name.', `the 409 is explained, got "${taken}"`);
      await page.screenshot({ path: runner.shotPath('k3-import-taken') });
      await dialog.getByRole('button', { name: 'Cancel' }).click();
      await dialog.waitFor({ state: 'hidden', ...T });

      // A damaged file: the server's 400, said plainly; nothing is created.
      await page.locator('[data-testid=import-file]').setInputFiles({
        name: 'notes.kiln',
        mimeType: 'application/octet-stream',
        buffer: Buffer.from('this is not an archive'),
      });
      await dialog.waitFor(T);
      assert((await nameInput.inputValue()) === 'notes', `the name comes from the file, got "${await nameInput.inputValue()}"`);
      await dialog.locator('[data-testid=import-submit]').click();
      const damaged = await dialog.locator('[data-testid=import-error]').innerText(T);
      assert(/^“notes\.kiln” is not a Kiln project archive, or it is damaged/.test(damaged), `the 400 is explained, got "${damaged}"`);
      await page.screenshot({ path: runner.shotPath('k4-import-damaged') });
      assert((await api('/projects/notes')).status === 404, 'no project was made of the damaged file');

      assert(errors.length === 0, `no console errors:\n${errors.join('\n')}`);
    },
  };
}
