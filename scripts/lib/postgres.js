// What a PostgreSQL data directory says about its server, for the fault tests' clusters and the
// client checks' launcher. The reader itself lives with the service's embedded PostgreSQL, as a
// plain module these scripts can require without a build.
module.exports = require('../../src/database/postmaster');
