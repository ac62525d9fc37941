package OmadmTest::NoDelay;

# HTTP::Tiny with TCP_NODELAY: it writes a request's head and body
# separately, and with Nagle on every POST then waits ~40 ms for the
# server's delayed ACK.

use strict;
use warnings;
use parent 'HTTP::Tiny';
use Socket qw(IPPROTO_TCP TCP_NODELAY);

sub _open_handle {
    my ($self, @args) = @_;
    my $handle = $self->SUPER::_open_handle(@args);
    setsockopt($handle->{fh}, IPPROTO_TCP, TCP_NODELAY, 1)
        or die "TCP_NODELAY: $!\n";
    return $handle;
}

1;
