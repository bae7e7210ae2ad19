package dev.orders.devservers;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;

/**
 * The data folder of the embedded servers, held with a file lock for as long as they run, so that two
 * processes never share it, and so that servers left behind by a killed process are known to be orphans.
 */
final class DataDir implements AutoCloseable {

    private final Path root;
    private final FileChannel channel;
    private final FileLock lock;

    private DataDir(Path root, FileChannel channel, FileLock lock) {
        this.root = root;
        this.channel = channel;
        this.lock = lock;
    }

    /**
     * @param dir   the folder, created if missing
     * @param clean whether to delete its content first
     * @return the locked folder
     */
    static DataDir open(Path dir, boolean clean) {
        Path root = dir.toAbsolutePath().normalize();
        try {
            Files.createDirectories(root);
        } catch (IOException e) {
            throw new InfrastructureException("data dir " + root + " cannot be created (config key 'data.dir'): " + e);
        }
        if (!Files.isWritable(root)) {
            throw new InfrastructureException("data dir " + root + " is not writable (config key 'data.dir')");
        }
        try {
            FileChannel channel = FileChannel.open(root.resolve(".lock"), StandardOpenOption.CREATE,
                    StandardOpenOption.WRITE);
            FileLock lock = tryLock(channel);
            if (lock == null) {
                channel.close();
                throw new InfrastructureException("data dir " + root + " is in use by another running process;"
                        + " stop it or choose another data.dir");
            }
            DataDir dataDir = new DataDir(root, channel, lock);
            if (clean) {
                dataDir.deleteContent();
            }
            return dataDir;
        } catch (IOException e) {
            throw new InfrastructureException("data dir " + root + " cannot be locked: " + e.getMessage(), e);
        }
    }

    private static FileLock tryLock(FileChannel channel) throws IOException {
        try {
            return channel.tryLock();
        } catch (java.nio.channels.OverlappingFileLockException heldInThisJvm) {
            return null;
        }
    }

    /** @return the absolute folder */
    Path root() {
        return root;
    }

    @Override
    public void close() {
        try {
            lock.release();
            channel.close();
        } catch (IOException e) {
            // the lock goes with the process anyway
        }
    }

    private void deleteContent() throws IOException {
        Path lockFile = root.resolve(".lock");
        Files.walkFileTree(root, new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
                if (!file.equals(lockFile)) {
                    Files.delete(file);
                }
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult postVisitDirectory(Path dir, IOException e) throws IOException {
                if (!dir.equals(root)) {
                    Files.delete(dir);
                }
                return FileVisitResult.CONTINUE;
            }
        });
    }
}
