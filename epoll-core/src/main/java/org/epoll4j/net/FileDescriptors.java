package org.epoll4j.net;

import org.epoll4j.EpollException;
import org.epoll4j.internal.LibC;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The few raw file-descriptor operations fd passing needs from Java, which has no public API for fd numbers: open a
 * file to pass ({@link Connection#writeWithFileDescriptors}), reach a received fd through the JDK's file APIs
 * ({@link #procPath}), and close one ({@link ConnectionHandler#onFileDescriptors} hands them over to be kept or
 * closed). Any thread.
 */
public final class FileDescriptors {
    private FileDescriptors() {
    }

    /**
     * Opens a regular file read-only (close-on-exec), e.g. to pass it to a peer.
     *
     * @param path a regular file (a FIFO or device is refused: opening one can block)
     * @return the new fd; the caller closes it ({@link #close})
     * @throws IllegalArgumentException if {@code path} is not a regular file
     * @throws EpollException           if open(2) fails (ENOENT, EACCES ...)
     */
    public static int openReadOnly(Path path) throws EpollException {
        if (!Files.isRegularFile(path)) {
            throw new IllegalArgumentException("openReadOnly: " + path + " is not a regular file");
        }
        int fd = LibC.open(path.toString(), LibC.O_RDONLY | LibC.O_CLOEXEC);
        if (fd < 0) {
            throw new EpollException("open(" + path + ", O_RDONLY|O_CLOEXEC)", LibC.errno());
        }
        return fd;
    }

    /**
     * Closes {@code fd}.
     *
     * @param fd an open file descriptor this code owns
     * @throws EpollException if close(2) fails (EBADF: it was not open)
     */
    public static void close(int fd) throws EpollException {
        if (LibC.close(fd) != 0) {
            throw new EpollException("close(" + fd + ")", LibC.errno());
        }
    }

    /**
     * {@code /proc/self/fd/N}: opening this path with the JDK's file APIs ({@link Files#newInputStream},
     * {@link java.nio.channels.FileChannel#open}) opens the file (or pipe) {@code fd} refers to anew, with its own
     * offset; the fd itself stays open and still needs {@link #close}. Sockets cannot be opened this way.
     *
     * @param fd an open file descriptor
     * @return the path naming it in this process
     */
    public static Path procPath(int fd) {
        if (fd < 0) {
            throw new IllegalArgumentException("procPath: negative fd " + fd);
        }
        return Path.of("/proc/self/fd/" + fd);
    }
}
