// Tiny admin helper for CI: node scripts/pg-admin.js <server-url> create|drop <database>
const { Client } = require('pg');

async function main() {
  const [url, action, name] = process.argv.slice(2);
  if (!url || !['create', 'drop'].includes(action) || !/^[a-z0-9_]+$/.test(name ?? '')) {
    throw new Error('usage: pg-admin.js <server-url> create|drop <database>');
  }
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(
      action === 'create'
        ? `CREATE DATABASE ${name}`
        : `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`,
    );
  } finally {
    await client.end();
  }
}

main().catch((error) => {
  console.error(error.message);
  process.exit(1);
});
