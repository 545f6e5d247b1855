package org.epoll4j.examples;

import picocli.CommandLine;

/**
 * The version every example prints for {@code --version}: from the jar's manifest (the Maven project version), or
 * "development" when run from classes. A class of its own, so that the programs do not import {@link Main}, which
 * imports them.
 */
public final class VersionProvider implements CommandLine.IVersionProvider {
    @Override
    public String[] getVersion() {
        String v = VersionProvider.class.getPackage().getImplementationVersion();
        return new String[] {"epoll4j examples " + (v != null ? v : "development")};
    }
}
