package org.epoll4j.net;

import jdk.jfr.Category;
import jdk.jfr.Description;
import jdk.jfr.Event;
import jdk.jfr.FlightRecorder;
import jdk.jfr.FlightRecorderListener;
import jdk.jfr.Label;
import jdk.jfr.Name;
import jdk.jfr.StackTrace;

/** The connection layer's JDK Flight Recorder events; built only when their rare condition happens. */
final class NetEvents {
    private static final boolean AVAILABLE = hook();

    private NetEvents() {
    }

    private static boolean hook() {
        try {
            FlightRecorder.addListener(new FlightRecorderListener() {
                @Override
                public void recorderInitialized(FlightRecorder recorder) {
                    FlightRecorder.register(AcceptRejected.class);
                }
            });
            return true;
        } catch (Throwable t) { // no jdk.jfr in this runtime, or JFR disabled
            return false;
        }
    }

    /**
     * Loads and initializes the event classes now: the EMFILE path that uses them has no fd to spare for loading a
     * class file.
     */
    static void preload() {
        if (AVAILABLE) {
            new AcceptRejected().isEnabled();
        }
    }

    /** A listener out of fds closed {@code closed} waiting connections (EMFILE/ENFILE). Never throws. */
    static void acceptRejected(int listenFd, Object local, String errno, long closed) {
        try {
            if (!AVAILABLE) {
                return;
            }
            AcceptRejected e = new AcceptRejected();
            if (e.isEnabled()) {
                e.listenFd = listenFd;
                e.localAddress = String.valueOf(local);
                e.errno = errno;
                e.connectionsClosed = closed;
                e.commit();
            }
        } catch (Throwable ignored) {
            // out of fds, out of luck: recording must never cost the listener
        }
    }

    @Name("org.epoll4j.AcceptRejected")
    @Label("Accept Rejected")
    @Category("epoll4j")
    @Description("A listener hit EMFILE/ENFILE and closed the connections waiting in its backlog")
    @StackTrace(false)
    static final class AcceptRejected extends Event {
        @Label("Listener File Descriptor")
        int listenFd;
        @Label("Local Address")
        String localAddress;
        @Label("errno")
        String errno;
        @Label("Connections Closed")
        long connectionsClosed;
    }
}
