/**
 * epoll4j: an embeddable event loop for Linux over epoll.
 *
 * <p>{@code org.epoll4j} holds the reactor (registrations, interest, readiness, timers) and {@code org.epoll4j.net}
 * the non-blocking TCP and Unix-socket connection layer. The JNA binding to libc ({@code org.epoll4j.internal}) is
 * not exported: it is an implementation detail that may change in any release. The JFR events are package-private
 * classes of the two API packages (their names, {@code org.epoll4j.*}, are what recordings and {@code jfr print} use).
 */
@SuppressWarnings("requires-automatic") // JNA ships no module descriptor; its manifest names it com.sun.jna
module org.epoll4j {
    requires com.sun.jna;
    requires java.management; // Reactor.Builder.jmx: the statistics as an MXBean
    requires jdk.jfr;         // the org.epoll4j.* flight-recorder events
    requires jdk.unsupported; // sun.misc.Signal: SignalWatcher installs the JVM's own signal handler

    exports org.epoll4j;
    exports org.epoll4j.net;
}
