package dev.orders.command.http;

import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import io.vertx.pgclient.PgException;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.RowSet;
import io.vertx.sqlclient.SqlClient;
import io.vertx.sqlclient.Tuple;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.HexFormat;
import java.util.Optional;

/**
 * The durable memory of {@code Idempotency-Key}s: the first answer to a key is stored in the same
 * transaction as the command's events, so a retried request appends nothing and gets that answer
 * again, also after a restart. Keys belong to the caller that sent them (its token's subject): the same
 * key from another caller is another key, which neither gets nor conflicts with the first caller's answer.
 * A key is kept for {@code idempotency.retention} ({@link IdempotencyRetention} forgets the older ones).
 */
final class IdempotencyKeys {

    private static final String FIND = """
            SELECT request_hash, status, location, body::text AS body FROM idempotency_keys
            WHERE subject = $1 AND key = $2""";
    private static final String INSERT = """
            INSERT INTO idempotency_keys (subject, key, request_hash, status, location, body)
            VALUES ($1, $2, $3, $4, $5, $6::text::jsonb)""";
    /** The oldest keys past the retention, at most {@code $2} of them (short statements, never one long one). */
    private static final String PRUNE = """
            DELETE FROM idempotency_keys WHERE ctid = ANY (ARRAY(
              SELECT ctid FROM idempotency_keys WHERE created_at < now() - make_interval(secs => $1)
               ORDER BY created_at LIMIT $2))""";
    private static final String UNIQUE_VIOLATION = "23505";

    /** An answer as first given. */
    record StoredAnswer(String requestHash, int status, String location, JsonObject body) {
    }

    /** The answer stored for this caller's key, if any. */
    Future<Optional<StoredAnswer>> find(SqlClient client, String subject, String key) {
        return client.preparedQuery(FIND).execute(Tuple.of(subject, key)).map(rows -> {
            if (rows.size() == 0) {
                return Optional.empty();
            }
            Row row = rows.iterator().next();
            return Optional.of(new StoredAnswer(row.getString("request_hash"), row.getInteger("status"),
                    row.getString("location"), new JsonObject(row.getString("body"))));
        });
    }

    /** Stores the first answer to this caller's key; fails with a duplicate key when it raced another. */
    Future<Void> store(SqlClient tx, String subject, String key, StoredAnswer answer) {
        return tx.preparedQuery(INSERT)
                .execute(Tuple.of(subject, key, answer.requestHash(), answer.status(), answer.location(), answer.body().encode()))
                .mapEmpty();
    }

    /** Forgets up to {@code limit} of the keys older than {@code retention}, oldest first; answers how many. */
    static Future<Integer> prune(SqlClient client, Duration retention, int limit) {
        return client.preparedQuery(PRUNE).execute(Tuple.of(retention.toNanos() / 1e9, limit)).map(RowSet::rowCount);
    }

    static boolean isDuplicateKey(Throwable failure) {
        return failure instanceof PgException pg && UNIQUE_VIOLATION.equals(pg.getSqlState())
                && "idempotency_keys_pkey".equals(pg.getConstraint());
    }

    /** A digest of what makes two requests "the same": method, path and body bytes. */
    static String hash(String method, String path, byte[] body) {
        try {
            MessageDigest digest = MessageDigest.getInstance("SHA-256");
            digest.update(method.getBytes(StandardCharsets.UTF_8));
            digest.update((byte) 0);
            digest.update(path.getBytes(StandardCharsets.UTF_8));
            digest.update((byte) 0);
            digest.update(body);
            return HexFormat.of().formatHex(digest.digest());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is missing from this JVM", e);
        }
    }
}
