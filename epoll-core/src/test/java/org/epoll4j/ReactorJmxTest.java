package org.epoll4j;

import org.epoll4j.testutil.FdLeakCheck;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

import javax.management.JMX;
import javax.management.MBeanServer;
import javax.management.ObjectName;
import java.lang.management.ManagementFactory;
import java.time.Duration;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code jmx(true)} registers the reactor's statistics as an MXBean while it is open. */
@Timeout(30)
@ExtendWith(FdLeakCheck.class)
class ReactorJmxTest {
    private static final MBeanServer SERVER = ManagementFactory.getPlatformMBeanServer();

    @Test
    void registeredWhileOpenAndReadable() throws Exception {
        ObjectName name = new ObjectName("org.epoll4j:type=Reactor,name=jmx-test");
        try (Reactor reactor = Reactor.builder().name("jmx-test").jmx(true).build()) {
            assertTrue(SERVER.isRegistered(name));
            reactor.execute(() -> { });
            reactor.execute(() -> { });
            reactor.poll(Duration.ZERO);
            assertEquals(2L, SERVER.getAttribute(name, "TasksRun"));
            assertEquals("jmx-test", SERVER.getAttribute(name, "Name"));
            ReactorMXBean proxy = JMX.newMXBeanProxy(SERVER, name, ReactorMXBean.class);
            assertEquals(1, proxy.getLoopIterations());
            assertFalse(proxy.isClosed());
            assertTrue(JMX.isMXBeanInterface(ReactorMXBean.class));
            assertEquals(0, proxy.getOpenConnections(), "no connection layer on this reactor");
            assertEquals(0L, SERVER.getAttribute(name, "QueuedBytes"));
            assertTrue(proxy.getDirectMemoryBytes() >= (long) proxy.getEventCapacity() * 12,
                    "at least the event array (12 or 16 bytes an entry)");
        }
        assertFalse(SERVER.isRegistered(name), "unregistered on close");
    }

    @Test
    void offByDefault() throws Exception {
        try (Reactor reactor = Reactor.builder().name("jmx-off").build()) {
            assertFalse(SERVER.isRegistered(new ObjectName("org.epoll4j:type=Reactor,name=jmx-off")));
        }
    }

    @Test
    void aDuplicateNameFailsClearlyAndLeaksNothing() throws Exception {
        try (Reactor first = Reactor.builder().name("jmx-dup").jmx(true).build()) {
            IllegalStateException e = assertThrows(IllegalStateException.class,
                    () -> Reactor.builder().name("jmx-dup").jmx(true).build());
            assertTrue(e.getMessage().contains("org.epoll4j:type=Reactor,name=jmx-dup")
                    && e.getMessage().contains("unique name"), e.getMessage());
            assertTrue(SERVER.isRegistered(new ObjectName("org.epoll4j:type=Reactor,name=jmx-dup")),
                    "the first keeps its name");
        }
    }

    @Test
    void namesJmxCannotTakeAsIsAreQuoted() throws Exception {
        try (Reactor reactor = Reactor.builder().name("a,b=c").jmx(true).build()) {
            ObjectName quoted = new ObjectName("org.epoll4j:type=Reactor,name=" + ObjectName.quote("a,b=c"));
            assertEquals("a,b=c", SERVER.getAttribute(quoted, "Name"));
        }
    }
}
