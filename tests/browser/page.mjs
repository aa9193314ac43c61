// A headless Chromium page driven over stdin/stdout by the Go tests: each
// input line is {"id":N,"js":"expression"} (or {"id":N,"script":"file"} to
// load a script into the page, {"id":N,"shot":"file.png","width":W,"height":H}
// for a screenshot, {"id":N,"follow":"selector"} to click a link and wait
// for its page, {"id":N,"keys":[...]} for key presses, {"id":N,"viewport":[W,H]},
// {"id":N,"ax":true} for the accessibility tree's controls, {"id":N,"grant":[...]}
// for permissions);
// each output line is
// {"id":N,"ok":true,"value":...} or {"id":N,"ok":false,"error":"..."}.
// Usage: node page.mjs URL
import { chromium } from "playwright-core";
import { createInterface } from "node:readline";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const url = process.argv[2];
const out = (o) => process.stdout.write(JSON.stringify(o) + "\n");

const context = await chromium.launchPersistentContext(mkdtempSync(join(tmpdir(), "chromium-")), {
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  headless: true,
  ignoreHTTPSErrors: true,
  args: [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
    "--allow-loopback-in-peer-connection", "--ignore-certificate-errors",
    "--autoplay-policy=no-user-gesture-required",
  ],
});
const page = context.pages()[0] || (await context.newPage());
page.on("console", (m) => process.stderr.write("console." + m.type() + ": " + m.text() + "\n"));
page.on("pageerror", (e) => process.stderr.write("pageerror: " + e.message + "\n"));
await page.goto(url);
out({ id: 0, ok: true, value: "ready" });

const rl = createInterface({ input: process.stdin });
for await (const line of rl) {
  let cmd;
  try {
    cmd = JSON.parse(line);
  } catch (e) {
    out({ id: -1, ok: false, error: "bad command: " + e.message });
    continue;
  }
  try {
    if (cmd.shot) {
      // {"id":N,"shot":"file.png","width":W,"height":H}: a screenshot at that viewport.
      await page.setViewportSize({ width: cmd.width, height: cmd.height });
      await page.screenshot({ path: cmd.shot, fullPage: true });
      out({ id: cmd.id, ok: true, value: null });
      continue;
    }
    if (cmd.follow) {
      // {"id":N,"follow":"css selector"}: clicks a link and waits until its page has loaded.
      const href = await page.$eval(cmd.follow, (a) => a.href);
      await Promise.all([page.waitForURL(href), page.click(cmd.follow)]);
      out({ id: cmd.id, ok: true, value: page.url() });
      continue;
    }
    if (cmd.keys) {
      // {"id":N,"keys":["Tab","text:1001","Enter"]}: real key presses (text: types the rest).
      for (const k of cmd.keys) {
        if (k.startsWith("text:")) await page.keyboard.type(k.slice(5));
        else await page.keyboard.press(k);
      }
      out({ id: cmd.id, ok: true, value: null });
      continue;
    }
    if (cmd.ax) {
      // {"id":N,"ax":true}: the controls in Chromium's accessibility tree (what a
      // screen reader gets): [{role, name}] of every non-ignored interactive node.
      const cdp = await context.newCDPSession(page);
      const { nodes } = await cdp.send("Accessibility.getFullAXTree");
      await cdp.detach();
      const roles = new Set(["textbox", "button", "checkbox", "meter", "link", "combobox", "spinbutton", "radio"]);
      const value = nodes.filter((n) => !n.ignored && n.role && roles.has(n.role.value))
        .map((n) => ({ role: n.role.value, name: n.name ? String(n.name.value) : "" }));
      out({ id: cmd.id, ok: true, value });
      continue;
    }
    if (cmd.grant) {
      // {"id":N,"grant":["clipboard-read"]}: browser permissions for the page. Not at
      // start: an override set then kept this Chromium's WebRTC calls from starting.
      await context.grantPermissions(cmd.grant);
      out({ id: cmd.id, ok: true, value: null });
      continue;
    }
    if (cmd.viewport) {
      // {"id":N,"viewport":[W,H]}
      await page.setViewportSize({ width: cmd.viewport[0], height: cmd.viewport[1] });
      out({ id: cmd.id, ok: true, value: null });
      continue;
    }
    if (cmd.script) {
      await page.addScriptTag({ path: cmd.script });
      out({ id: cmd.id, ok: true, value: null });
      continue;
    }
    const value = await page.evaluate(cmd.js);
    out({ id: cmd.id, ok: true, value: value === undefined ? null : value });
  } catch (e) {
    out({ id: cmd.id, ok: false, error: String(e && e.message ? e.message : e) });
  }
}
await context.close();
