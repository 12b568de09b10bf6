import { validateEnvironment } from './environment';

describe('validateEnvironment', () => {
  it('applies the documented defaults', () => {
    const env = validateEnvironment({});
    expect(env).toMatchObject({
      PORT: 3000,
      EMBEDDED_PG_DIR: './.data/postgres',
      EMBEDDED_PG_PORT: 54329,
      CASHBACK_RATE_BPS: 200,
      CASHBACK_DELAY_MS: 86_400_000,
      LOG_LEVEL: 'info',
      DB_STATEMENT_TIMEOUT_MS: 15_000,
      DB_LOCK_TIMEOUT_MS: 5_000,
      DB_IDLE_IN_TRANSACTION_SESSION_TIMEOUT_MS: 30_000,
      AUDIT_STATEMENT_TIMEOUT_MS: 300_000,
      AUDIT_CHUNK_ACCOUNTS: 200,
    });
    expect(env.DATABASE_URL).toBeUndefined();
  });

  it('converts numeric strings', () => {
    expect(validateEnvironment({ PORT: '8080', CASHBACK_RATE_BPS: '150' })).toMatchObject({
      PORT: 8080,
      CASHBACK_RATE_BPS: 150,
    });
  });

  it('fails fast naming the variable, and never prints DATABASE_URL', () => {
    expect(() => validateEnvironment({ PORT: 'eighty' })).toThrow(/PORT/);
    expect(() => validateEnvironment({ LOG_LEVEL: 'loud' })).toThrow(/LOG_LEVEL/);
    // 0 would mean "no limit" to PostgreSQL: refused, like any value out of range.
    expect(() => validateEnvironment({ DB_LOCK_TIMEOUT_MS: '0' })).toThrow(/DB_LOCK_TIMEOUT_MS/);
    expect(() => validateEnvironment({ DB_STATEMENT_TIMEOUT_MS: '1.5' })).toThrow(
      /DB_STATEMENT_TIMEOUT_MS/,
    );
    expect(() => validateEnvironment({ DB_IDLE_IN_TRANSACTION_SESSION_TIMEOUT_MS: '-1' })).toThrow(
      /DB_IDLE_IN_TRANSACTION_SESSION_TIMEOUT_MS/,
    );
    let message = '';
    try {
      validateEnvironment({ DATABASE_URL: 'mysql://u:secret@h/db' });
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toMatch(/DATABASE_URL/);
    expect(message).not.toContain('secret');
  });

  it('treats an empty DATABASE_URL as unset', () => {
    expect(validateEnvironment({ DATABASE_URL: '' }).DATABASE_URL).toBeUndefined();
  });
});
