// Output formatting of the CLI: sizes, durations, tab alignment, Go templates, image/history rows.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatG, humanSize, humanDuration, since, shortId, ellipsis, goTimeString } from '../../src/cli/format/human.js';
import { alignTabs } from '../../src/cli/format/table.js';
import { parseTemplate, preformat, goString, goJson } from '../../src/cli/format/template.js';
import { renderRows, familiarRepo, splitRepo } from '../../src/cli/format/output.js';
import { imageRows } from '../../src/cli/commands/images.js';
import { historyRows } from '../../src/cli/commands/history.js';
import { usageSummary } from '../../src/cli/commands/df.js';
import { eventForTemplate, eventJson, formatEvent } from '../../src/cli/commands/events.js';
import { eventTimeNano, parseEventMessage } from '../../src/client/client.js';

test('formatG follows Go %g', () => {
  assert.equal(formatG(1.984172, 3), '1.98');
  assert.equal(formatG(249.0, 3), '249');
  assert.equal(formatG(248.899994, 4), '248.9');
  assert.equal(formatG(999.5, 3), '1e+03');
  assert.equal(formatG(0.5, 3), '0.5');
  assert.equal(formatG(0, 3), '0');
  assert.equal(formatG(10, 3), '10');
});

test('humanSize uses decimal units like docker', () => {
  assert.equal(humanSize(0), '0B');
  assert.equal(humanSize(3), '3B');
  assert.equal(humanSize(999), '999B');
  assert.equal(humanSize(1000), '1kB');
  assert.equal(humanSize(10240), '10.2kB');
  assert.equal(humanSize(1984172), '1.98MB');
  assert.equal(humanSize(4_261_234), '4.26MB');
  assert.equal(humanSize(248_899_994), '249MB');
  assert.equal(humanSize(248_899_994, 4), '248.9MB');
  assert.equal(humanSize(1.5e9), '1.5GB');
});

test('humanDuration matches go-units', () => {
  assert.equal(humanDuration(500), 'Less than a second');
  assert.equal(humanDuration(1000), '1 second');
  assert.equal(humanDuration(59_000), '59 seconds');
  assert.equal(humanDuration(60_000), 'About a minute');
  assert.equal(humanDuration(119_000), 'About a minute');
  assert.equal(humanDuration(120_000), '2 minutes');
  assert.equal(humanDuration(59 * 60_000), '59 minutes');
  assert.equal(humanDuration(60 * 60_000), 'About an hour');
  assert.equal(humanDuration(2 * 3_600_000), '2 hours');
  assert.equal(humanDuration(47 * 3_600_000), '47 hours');
  assert.equal(humanDuration(48 * 3_600_000), '2 days');
  assert.equal(humanDuration(14 * 24 * 3_600_000), '2 weeks');
  assert.equal(humanDuration(60 * 24 * 3_600_000), '2 months');
  assert.equal(humanDuration(800 * 24 * 3_600_000), '2 years');
  assert.equal(since(1000, 1000 * 1000 + 3 * 3_600_000), '3 hours ago');
});

test('ids, ellipsis and Go time strings', () => {
  assert.equal(shortId('sha256:2ed7a96ec32eda87f7611335f282dba6cacbee0a8aa3c4c604fc4d60d1f0eca1'), '2ed7a96ec32e');
  assert.equal(ellipsis('abcdef', 4), 'abc…');
  assert.equal(ellipsis('abc', 4), 'abc');
  assert.match(goTimeString(0), /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d [+-]\d{4} \S+$/);
});

test('alignTabs pads like text/tabwriter(minwidth 10, padding 3)', () => {
  const out = alignTabs([
    'REPOSITORY\tTAG\tIMAGE ID\tCREATED\tSIZE',
    '127.0.0.1:5555/fixtures/busybox\t1\t2ed7a96ec32e\t46 minutes ago\t1.98MB',
    'fixtures-debian\tbase\t42731e48134a\t45 minutes ago\t199MB',
  ]);
  assert.deepEqual(out, [
    'REPOSITORY                        TAG       IMAGE ID       CREATED          SIZE',
    '127.0.0.1:5555/fixtures/busybox   1         2ed7a96ec32e   46 minutes ago   1.98MB',
    'fixtures-debian                   base      42731e48134a   45 minutes ago   199MB',
  ]);
  // Column blocks: a line with fewer cells ends the block above it.
  assert.deepEqual(alignTabs(['a\tb', 'x', 'longer-than-ten\tc']), ['a         b', 'x', 'longer-than-ten   c']);
});

const IMAGE = {
  Id: 'sha256:2ed7a96ec32eda87f7611335f282dba6cacbee0a8aa3c4c604fc4d60d1f0eca1',
  RepoTags: ['busybox:latest', 'busybox:1'],
  RepoDigests: ['busybox@sha256:f5e8ab6fea6a886b35aef76abc607ebc17a9b8facf66d4ab716019bcfbc421a6'],
  Config: { Cmd: ['sh'], Entrypoint: null, Env: ['PATH=/bin'], Labels: null, ExposedPorts: { '80/tcp': {} } },
  RootFS: { Type: 'layers', Layers: ['sha256:78'] },
  Size: 4261234,
  Architecture: 'amd64',
};

test('Go template subset', () => {
  const run = (f: string, d: unknown = IMAGE) => parseTemplate(f).execute(d);
  assert.equal(run('{{.Id}}'), IMAGE.Id);
  assert.equal(run('{{.Config.Cmd}}'), '[sh]');
  assert.equal(run('{{.Config.Entrypoint}}'), '[]');
  assert.equal(run('{{.Config.Labels}}'), 'map[]');
  assert.equal(run('{{.Config.ExposedPorts}}'), 'map[80/tcp:{}]');
  assert.equal(run('{{.RootFS}}'), '{layers [sha256:78]}');
  assert.equal(run('{{.Size}}'), '4261234');
  assert.equal(run('{{json .Config.Cmd}}'), '["sh"]');
  assert.equal(run('{{json .Config.Entrypoint}}'), 'null');
  assert.equal(run('{{index .RepoTags 0}}'), 'busybox:latest');
  assert.equal(run('{{index .RepoTags 1}}'), 'busybox:1');
  assert.equal(run('{{index .Config.Env 0}}'), 'PATH=/bin');
  assert.equal(run('{{join .RepoTags ", "}}'), 'busybox:latest, busybox:1');
  assert.equal(run('{{range .RepoTags}}<{{.}}>{{end}}'), '<busybox:latest><busybox:1>');
  assert.equal(run('{{range $i, $t := .RepoTags}}{{$i}}:{{$t}} {{end}}'), '0:busybox:latest 1:busybox:1 ');
  assert.equal(run('{{range $k, $v := .Config.ExposedPorts}}{{$k}}{{end}}'), '80/tcp');
  assert.equal(run('{{if .Config.Labels}}L{{else if .Config.Cmd}}C{{else}}N{{end}}'), 'C');
  assert.equal(run('{{if not .Config.Entrypoint}}none{{end}}'), 'none');
  assert.equal(run('{{with .RootFS}}{{.Type}}{{end}}'), 'layers');
  assert.equal(run('{{- range .RepoTags -}}\n  [{{.}}]\n{{- end}}'), '[busybox:latest][busybox:1]');
  assert.equal(run('{{.Architecture | upper}} {{lower "ABC"}} {{title "hello world"}}'), 'AMD64 abc Hello World');
  assert.equal(run('{{len .RepoTags}} {{printf "%s-%d" .Architecture 7}} {{eq .Architecture "amd64"}}'), '2 amd64-7 true');
  assert.equal(run('{{(index .RepoTags 0) | printf "%q"}}'), '"busybox:latest"');
  assert.equal(run('{{$a := .Architecture}}{{$a}}/{{$.Size}}'), 'amd64/4261234');
  assert.equal(run('{{/* comment */}}x{{"y"}}{{`z`}}'), 'xyz');
  assert.equal(run('{{truncate .Id 13}} {{pad "a" 1 2}}|'), 'sha256:2ed7a9  a  |');
  assert.equal(run('{{split "a,b" ","}}'), '[a b]');
  assert.equal(run('{{.}}', 'plain'), 'plain');
  assert.throws(() => run('{{.Nope}}'), /map has no entry for key "Nope"/);
  assert.throws(() => run('{{if .Id}}'), /unexpected EOF/);
  assert.throws(() => run('{{nosuchfn .Id}}'), /function "nosuchfn" not defined/);
  assert.throws(() => run('{{.Id'), /unclosed action/);
});

test('goString / goJson mimic Go printing', () => {
  assert.equal(goString(null), '<nil>');
  assert.equal(goString(null, 'Cmd'), '[]');
  // A map field prints as Go's map (sorted keys); an object with no field name as a struct.
  assert.equal(goString({ b: 1, a: 'x' }, 'Labels'), 'map[a:x b:1]');
  assert.equal(goString({ b: 1, a: 'x' }), '{1 x}');
  assert.equal(parseTemplate('{{range $k, $v := .Ports}}{{$k}}={{$v}}{{end}}').execute({ Ports: { '80/tcp': [{ HostIp: '127.0.0.1', HostPort: '8080' }] } }), '80/tcp=[{127.0.0.1 8080}]');
  assert.equal(goString([1, 'a', true]), '[1 a true]');
  assert.equal(goJson({ a: '<none>&' }), '{"a":"\\u003cnone\\u003e\\u0026"}');
});

test('preformat handles table prefix and escapes', () => {
  assert.deepEqual(preformat('table {{.ID}}\\t{{.Size}}'), { table: true, format: '{{.ID}}\t{{.Size}}' });
  assert.deepEqual(preformat('{{.ID}}\\n'), { table: false, format: '{{.ID}}\n' });
});

test('image rows: one per repo:tag, dangling and digest-only images', () => {
  const now = 1_700_000_000_000;
  const imgs = [
    { ...IMAGE, Created: now / 1000 - 7200, ParentId: '', SharedSize: -1, Labels: null, Containers: -1 },
    { Id: 'sha256:' + 'a'.repeat(64), ParentId: '', RepoTags: [], RepoDigests: [], Created: now / 1000 - 30, Size: 10, SharedSize: -1, Labels: null, Containers: 2 },
    { Id: 'sha256:' + 'b'.repeat(64), ParentId: '', RepoTags: null, RepoDigests: ['docker.io/library/alpine@sha256:' + 'c'.repeat(64)], Created: now / 1000, Size: 10, SharedSize: -1, Labels: null, Containers: 0 },
  ];
  const rows = imageRows(imgs, { digests: false, noTrunc: false, now });
  assert.deepEqual(rows.map((r) => [r.Repository, r.Tag, r.ID, r.CreatedSince, r.Size, r.Digest]), [
    ['busybox', 'latest', '2ed7a96ec32e', '2 hours ago', '4.26MB', '<none>'],
    ['busybox', '1', '2ed7a96ec32e', '2 hours ago', '4.26MB', '<none>'],
    ['<none>', '<none>', 'aaaaaaaaaaaa', '30 seconds ago', '10B', '<none>'],
    ['alpine', '<none>', 'bbbbbbbbbbbb', 'Less than a second ago', '10B', '<none>'],
  ]);
  assert.equal(rows[2]!.Containers, '2');
  assert.equal(rows[0]!.Containers, 'N/A');
  const withDigests = imageRows(imgs, { digests: true, noTrunc: true, now });
  assert.equal(withDigests[0]!.Digest, 'sha256:f5e8ab6fea6a886b35aef76abc607ebc17a9b8facf66d4ab716019bcfbc421a6');
  assert.equal(withDigests[0]!.ID, IMAGE.Id);
  assert.equal(withDigests[3]!.Digest, 'sha256:' + 'c'.repeat(64));

  const table = renderRows(undefined, 'table {{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}',
    { ID: 'IMAGE ID', Repository: 'REPOSITORY', Tag: 'TAG', CreatedSince: 'CREATED', Size: 'SIZE' }, rows.slice(0, 1));
  assert.equal(table, 'REPOSITORY   TAG       IMAGE ID       CREATED       SIZE\nbusybox      latest    2ed7a96ec32e   2 hours ago   4.26MB\n');
  const custom = renderRows('table {{.Repository}}:{{.Tag}}', '', {}, rows.slice(0, 1));
  assert.equal(custom, 'REPOSITORY:TAG\nbusybox:latest\n');
  const json = renderRows('json', '', {}, rows.slice(0, 1));
  assert.match(json, /^\{"Containers":"N\/A","CreatedAt":"[^"]+","CreatedSince":"2 hours ago","Digest":"\\u003cnone\\u003e","ID":"2ed7a96ec32e",/);
  assert.equal(renderRows('{{.ID}}', '', {}, rows.slice(0, 2)), '2ed7a96ec32e\n2ed7a96ec32e\n');
});

test('familiar names', () => {
  assert.equal(familiarRepo('docker.io/library/busybox'), 'busybox');
  assert.equal(familiarRepo('docker.io/foo/bar'), 'foo/bar');
  assert.equal(familiarRepo('localhost:5000/library/x'), 'localhost:5000/library/x');
  assert.deepEqual(splitRepo('localhost:5000/x:1'), { repo: 'localhost:5000/x', tag: '1' });
  assert.deepEqual(splitRepo('localhost:5000/x'), { repo: 'localhost:5000/x' });
});

test('history rows truncate CREATED BY and honour -H=false', () => {
  const items = [
    { Id: 'sha256:' + 'd'.repeat(64), Created: 1_700_000_000, CreatedBy: '/bin/sh -c #(nop)\tCMD ["sh"] and then a very long tail of text', Tags: ['x:1'], Size: 0, Comment: '' },
    { Id: '<missing>', Created: 1_700_000_000, CreatedBy: 'ADD file', Tags: null, Size: 4261234, Comment: 'c' },
  ];
  const h = historyRows(items, { human: true, noTrunc: false, now: 1_700_000_000_000 + 86_400_000 * 3 });
  assert.equal(h[0]!.ID, 'dddddddddddd');
  assert.equal(h[0]!.CreatedBy, '/bin/sh -c #(nop) CMD ["sh"] and then a very…');
  assert.equal([...h[0]!.CreatedBy].length, 45);
  assert.equal(h[0]!.CreatedSince, '3 days ago');
  assert.equal(h[1]!.ID, '<missing>');
  assert.equal(h[1]!.Size, '4.26MB');
  const raw = historyRows(items, { human: false, noTrunc: true });
  assert.equal(raw[1]!.Size, '4261234');
  assert.match(raw[1]!.CreatedSince, /^2023-11-1\dT/);
  assert.equal(raw[0]!.ID, 'sha256:' + 'd'.repeat(64));
});

test('system df summary from the legacy shape', () => {
  const s = usageSummary({
    LayersSize: 1000,
    Images: [
      { Id: 'a', ParentId: '', RepoTags: [], RepoDigests: [], Created: 0, Size: 600, SharedSize: 0, Labels: null, Containers: 1 },
      { Id: 'b', ParentId: '', RepoTags: [], RepoDigests: [], Created: 0, Size: 400, SharedSize: 0, Labels: null, Containers: 0 },
    ],
    Containers: [{ State: 'running', SizeRw: 5 }, { State: 'exited', SizeRw: 7 }],
    Volumes: [], BuildCache: [],
  });
  assert.deepEqual(s.images, { total: 2, active: 1, size: 1000, reclaimable: 400 });
  assert.deepEqual(s.containers, { total: 2, active: 1, size: 12, reclaimable: 7 });
  assert.deepEqual(usageSummary({ ImageUsage: { TotalCount: 3, ActiveCount: 1, TotalSize: 9, Reclaimable: 4 } }).images, { total: 3, active: 1, size: 9, reclaimable: 4 });
});

test('events print like docker', () => {
  const line = formatEvent({ Type: 'image', Action: 'pull', Actor: { ID: 'busybox:latest', Attributes: { name: 'busybox', a: 'b' } }, time: 1, timeNano: 1_000_000_123 });
  assert.match(line, /^\d{4}-\d\d-\d\dT\d\d:\d\d:01\.000000123(Z|[+-]\d\d:\d\d) image pull busybox:latest \(a=b, name=busybox\)$/);
});

test('events keep every digit of timeNano, write Go\'s JSON order and template field names', () => {
  // 1796017512746067123 is not a double: Number() gives 1796017512746067200.
  const text = '{"Type":"container","Action":"pause","Actor":{"ID":"abc","Attributes":{"name":"c1","a":"b"}},"scope":"local","time":1796017512,"timeNano":1796017512746067123,"status":"pause","id":"abc","from":"bb:1"}';
  const e = parseEventMessage(text);
  assert.equal(eventTimeNano(e), 1796017512746067123n);
  assert.match(formatEvent(e), /:12\.746067123(Z|[+-]\d\d:\d\d) container pause abc \(a=b, name=c1\)$/);
  assert.equal(eventJson(e), '{"status":"pause","id":"abc","from":"bb:1","Type":"container","Action":"pause","Actor":{"ID":"abc","Attributes":{"a":"b","name":"c1"}},"scope":"local","time":1796017512,"timeNano":1796017512746067123}');
  // Image events have no legacy fields: Go leaves the empty ones out.
  assert.equal(eventJson(parseEventMessage('{"Type":"image","Action":"tag","Actor":{"ID":"x","Attributes":{}},"scope":"local","time":1,"timeNano":1000000005}')),
    '{"Type":"image","Action":"tag","Actor":{"ID":"x","Attributes":{}},"scope":"local","time":1,"timeNano":1000000005}');
  const tpl = parseTemplate('{{.Status}} {{.ID}} {{.From}} {{.Type}} {{.Action}} {{.Actor.Attributes.name}} {{.Scope}} {{.Time}}|{{json .Actor}}');
  assert.equal(tpl.execute(eventForTemplate(e)), 'pause abc bb:1 container pause c1 local 1796017512|{"ID":"abc","Attributes":{"a":"b","name":"c1"}}');
  assert.equal(parseTemplate('{{json .}}').execute(eventForTemplate(e)).slice(0, 40), '{"status":"pause","id":"abc","from":"bb:');
});

test('templates call a method of the data with its arguments, as Go does', () => {
  const row = { Labels: 'a=b', Label: (name: string) => (name === 'a' ? 'b' : '') };
  assert.equal(parseTemplate('{{.Label "a"}}|{{.Label "z"}}|{{"a" | .Label}}').execute(row), 'b||b');
  assert.throws(() => parseTemplate('{{.Label}}').execute(row), /at <\.Label>: wrong number of args for Label: want 1 got 0/);
  assert.throws(() => parseTemplate('{{.Labels "a"}}').execute(row), /can't give argument to non-function/);
  // json leaves methods out, keys in Go's sorted order.
  assert.equal(renderRows('{{json .}}', '', {}, [{ Z: '1', Label: row.Label, A: null }]), '{"A":null,"Z":"1"}\n');
  assert.equal(renderRows('json', '', {}, [{ Z: '1', Label: row.Label, A: null }]), '{"A":null,"Z":"1"}\n');
});
