// The classic client walk-through with the Berth SDK: list images, pull one, inspect it, remove it.
// Usage: npx tsx examples/seed-flow.ts IMAGE   (daemon from BERTH_HOST / DOCKER_HOST / the default socket)
import { connect, isBerthError } from 'berth';

const image = process.argv[2];
if (!image) {
  console.error('usage: npx tsx examples/seed-flow.ts IMAGE');
  process.exit(2);
}

const client = connect();
try {
  for (const img of await client.listImages()) {
    console.log('ID:', img.Id);
    console.log('RepoTags:', img.RepoTags?.[0] ?? '<none>:<none>');
  }

  console.log(`Pulling ${image}`);
  await client.pull(image).done((m) => {
    if (m.status && !m.progressDetail?.current) console.log(m.id ? `${m.id}: ${m.status}` : m.status);
  });

  const info = await client.inspectImage(image);
  console.log('ID:', info.Id);
  console.log('Created:', info.Created);
  console.log('Size:', info.Size);
  console.log('Tags:', info.RepoTags.join(', '));

  for (const r of await client.removeImage(image)) {
    console.log(r.Untagged ? `Untagged: ${r.Untagged}` : `Deleted: ${r.Deleted}`);
  }
} catch (e) {
  console.error(isBerthError(e) ? `${e.code}: ${e.message}` : e);
  process.exitCode = 1;
} finally {
  client.close();
}
