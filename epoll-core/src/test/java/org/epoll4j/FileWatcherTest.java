package org.epoll4j;

import org.epoll4j.testutil.FdLeakCheck;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** inotify through {@link FileWatcher}: real files in a temporary directory, the reactor polled on the test thread. */
@ExtendWith(FdLeakCheck.class)
@org.junit.jupiter.api.Timeout(60)
class FileWatcherTest {
    @TempDir
    Path dir;

    private final List<FileEvent> events = new ArrayList<>();
    private Throwable closedWith = new AssertionError("not closed");

    private FileWatcher open(Reactor reactor) throws EpollException {
        return FileWatcher.open(reactor, new FileWatcher.Listener() {
            @Override
            public void onEvent(FileEvent event) {
                events.add(event);
            }

            @Override
            public void onClosed(Throwable cause) {
                closedWith = cause;
            }
        });
    }

    /** Polls until an event matching {@code wanted} has arrived (bounded by the test's timeout). */
    private FileEvent await(Reactor reactor, Predicate<FileEvent> wanted) throws EpollException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (System.nanoTime() < deadline) {
            for (FileEvent e : events) {
                if (wanted.test(e)) {
                    return e;
                }
            }
            reactor.poll(Duration.ofMillis(100));
        }
        throw new AssertionError("no such event within 20 s; " + events.size() + " events: "
                + events.subList(Math.max(0, events.size() - 10), events.size()));
    }

    private FileEvent await(Reactor reactor, FileEvent.Kind kind, Path path) throws EpollException {
        return await(reactor, e -> e.kind() == kind && path.equals(e.path()));
    }

    @Test
    void createModifyCloseDeleteArriveWithTheirPaths() throws Exception {
        try (Reactor reactor = Reactor.open(); FileWatcher watcher = open(reactor)) {
            FileWatcher.Watch watch = watcher.watch(dir);
            Path file = dir.resolve("a.txt");
            Files.writeString(file, "hello");
            await(reactor, FileEvent.Kind.CREATED, file);
            await(reactor, FileEvent.Kind.MODIFIED, file);
            FileEvent closed = await(reactor, FileEvent.Kind.CLOSED_WRITE, file);
            assertEquals(watch, closed.watch());
            assertFalse(closed.isDirectory());
            Files.delete(file);
            await(reactor, FileEvent.Kind.DELETED, file);
            Path sub = dir.resolve("sub");
            Files.createDirectory(sub);
            assertTrue(await(reactor, FileEvent.Kind.CREATED, sub).isDirectory());
        }
        assertNull(closedWith, "close() ends the watcher with no cause");
    }

    @Test
    void aRenameInsideWatchedDirectoriesIsOneMovedEventWithBothNames() throws Exception {
        Path other = Files.createDirectory(dir.resolve("other"));
        Path outside = Files.createTempDirectory("epoll4j-outside");
        try (Reactor reactor = Reactor.open(); FileWatcher watcher = open(reactor)) {
            watcher.watch(dir);
            watcher.watch(other);
            Path a = Files.writeString(dir.resolve("a"), "x");
            await(reactor, FileEvent.Kind.CLOSED_WRITE, a);
            events.clear();

            Path b = dir.resolve("b");
            Files.move(a, b);
            FileEvent moved = await(reactor, e -> e.kind() == FileEvent.Kind.MOVED);
            assertEquals(a, moved.path());
            assertEquals(b, moved.newPath());

            Path c = other.resolve("c"); // across two watched directories: still one pair, by cookie
            Files.move(b, c);
            FileEvent across = await(reactor, e -> e.kind() == FileEvent.Kind.MOVED && c.equals(e.newPath()));
            assertEquals(b, across.path());

            Path away = outside.resolve("away");
            Files.move(c, away);
            await(reactor, FileEvent.Kind.MOVED_OUT, c);
            Files.move(away, dir.resolve("back"));
            await(reactor, FileEvent.Kind.MOVED_IN, dir.resolve("back"));
            assertFalse(events.stream().anyMatch(e -> e.kind() == FileEvent.Kind.MOVED_OUT && e.path().equals(a)),
                    "a paired rename is not also reported as moved out: " + events);
        } finally {
            Files.deleteIfExists(outside.resolve("away"));
            Files.delete(outside);
        }
    }

    @Test
    void onlyTheAskedKindsAreReportedAndCancelEndsTheWatch() throws Exception {
        try (Reactor reactor = Reactor.open(); FileWatcher watcher = open(reactor)) {
            FileWatcher.Watch watch = watcher.watch(dir, EnumSet.of(FileEvent.Kind.DELETED));
            Path f = Files.writeString(dir.resolve("f"), "x");
            Files.delete(f);
            await(reactor, FileEvent.Kind.DELETED, f);
            assertTrue(events.stream().allMatch(e -> e.kind() == FileEvent.Kind.DELETED), events.toString());
            watch.cancel();
            await(reactor, e -> e.kind() == FileEvent.Kind.WATCH_ENDED);
            assertFalse(watch.isActive());
            assertEquals(0, watcher.watchCount());
            watch.cancel(); // idempotent
        }
    }

    @Test
    void deletingAWatchedDirectoryReportsSelfDeletedThenTheWatchEnds() throws Exception {
        Path sub = Files.createDirectory(dir.resolve("gone"));
        try (Reactor reactor = Reactor.open(); FileWatcher watcher = open(reactor)) {
            FileWatcher.Watch watch = watcher.watch(sub);
            Files.delete(sub);
            await(reactor, FileEvent.Kind.SELF_DELETED, sub);
            FileEvent ended = await(reactor, e -> e.kind() == FileEvent.Kind.WATCH_ENDED);
            assertEquals(watch, ended.watch());
            assertFalse(watch.isActive());
        }
    }

    @Test
    void anOverflowedQueueIsReported() throws Exception {
        // readAllLines, not readString: procfs reports size 0, and readString then returned only "1" of "16384"
        int queueLimit = Integer.parseInt(Files.readAllLines(Path.of("/proc/sys/fs/inotify/max_queued_events")).get(0).trim());
        try (Reactor reactor = Reactor.open(); FileWatcher watcher = open(reactor)) {
            watcher.watch(dir, EnumSet.of(FileEvent.Kind.CREATED));
            for (int i = 0; i <= queueLimit; i++) { // one IN_CREATE each, without reading: the queue overflows
                Files.createFile(dir.resolve(Integer.toString(i)));
            }
            FileEvent overflow = await(reactor, e -> e.kind() == FileEvent.Kind.OVERFLOW);
            assertNull(overflow.watch());
            assertNull(overflow.path());
        }
    }

    @Test
    void badPathsFailClearly() throws Exception {
        try (Reactor reactor = Reactor.open(); FileWatcher watcher = open(reactor)) {
            Path missing = dir.resolve("no-such-file");
            EpollException e = assertThrows(EpollException.class, () -> watcher.watch(missing));
            assertEquals("ENOENT", e.errnoName());
            assertTrue(e.getMessage().contains(missing.toString()), e.getMessage());
        }
    }

    @Test
    void aListenerThatThrowsEndsTheWatcherWithItsException() throws Exception {
        IOException boom = new IOException("boom");
        Throwable[] cause = new Throwable[1];
        try (Reactor reactor = Reactor.builder().errorHandler((r, t) -> { }).build()) {
            FileWatcher watcher = FileWatcher.open(reactor, new FileWatcher.Listener() {
                @Override
                public void onEvent(FileEvent event) throws Exception {
                    throw boom;
                }

                @Override
                public void onClosed(Throwable c) {
                    cause[0] = c;
                }
            });
            watcher.watch(dir);
            Files.createFile(dir.resolve("x"));
            while (cause[0] == null) {
                reactor.poll(Duration.ofMillis(100));
            }
            assertEquals(boom, cause[0]);
        }
    }

    @Test
    void closingTheReactorClosesTheWatcher() throws Exception {
        Reactor reactor = Reactor.open();
        FileWatcher watcher = open(reactor);
        watcher.watch(dir);
        reactor.close();
        assertTrue(closedWith instanceof ClosedReactorException, String.valueOf(closedWith));
        assertThrows(IllegalStateException.class, () -> watcher.watch(dir));
    }
}
