package dev.orders.command.handling;

import dev.orders.events.DomainEvent;
import dev.orders.events.EventTypes;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.lang.reflect.ParameterizedType;
import java.lang.reflect.RecordComponent;
import java.lang.reflect.Type;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashSet;
import java.util.Set;

/**
 * The version a snapshot of an aggregate's state is stored with, derived from everything that decides
 * what a snapshot means, so that a change to any of it makes old snapshots unusable (the stream is then
 * replayed) instead of misread:
 * <ul>
 *   <li>the state's shape: its record components, their names and types, recursively;</li>
 *   <li>the fold: the compiled code of the decider (its {@code evolve}), nested classes included;</li>
 *   <li>the events it folds: each event type's current schema version, which moves with its upcasters.</li>
 * </ul>
 * Nothing here is kept by hand. A recompiled decider with other bytes also invalidates snapshots: a
 * replay is the safe side of that doubt.
 */
public final class SnapshotVersion {

    private SnapshotVersion() {
    }

    /** The snapshot version of a state folded by {@code decider} from events of {@code events}. */
    public static int of(Class<?> stateClass, Class<?> decider, Class<? extends DomainEvent> events) {
        MessageDigest digest = sha256();
        digest.update(shape(stateClass).getBytes(StandardCharsets.UTF_8));
        digest.update(code(decider));
        for (Class<?> nested : decider.getDeclaredClasses()) {
            digest.update(code(nested));
        }
        Class<?>[] types = events.getPermittedSubclasses();
        Arrays.sort(types, Comparator.comparing(Class::getName));
        for (Class<?> type : types) {
            digest.update((type.getSimpleName() + "@" + EventTypes.currentSchemaVersion(type.getSimpleName()))
                    .getBytes(StandardCharsets.UTF_8));
        }
        // positive, so that it reads as a version in the snapshots table
        return ByteBuffer.wrap(digest.digest()).getInt() & Integer.MAX_VALUE;
    }

    /** A description of a type's shape: record components with their generic types, records unfolded. */
    static String shape(Class<?> type) {
        StringBuilder out = new StringBuilder();
        describe(type, out, new LinkedHashSet<>());
        return out.toString();
    }

    private static void describe(Type type, StringBuilder out, Set<Type> seen) {
        out.append(type.getTypeName());
        if (type instanceof ParameterizedType parameterized) {
            for (Type argument : parameterized.getActualTypeArguments()) {
                out.append('<');
                describe(argument, out, seen);
                out.append('>');
            }
        } else if (type instanceof Class<?> c && c.isRecord() && seen.add(c)) {
            out.append('{');
            for (RecordComponent component : c.getRecordComponents()) {
                out.append(component.getName()).append(':');
                describe(component.getGenericType(), out, seen);
                out.append(';');
            }
            out.append('}');
        }
    }

    private static byte[] code(Class<?> type) {
        String resource = type.getName().substring(type.getName().lastIndexOf('.') + 1) + ".class";
        try (InputStream in = type.getResourceAsStream(resource)) {
            if (in == null) {
                throw new IllegalStateException("the compiled code of " + type.getName() + " is not readable");
            }
            return in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is missing from this JVM", e);
        }
    }
}
