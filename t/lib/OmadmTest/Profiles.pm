package OmadmTest::Profiles;

# Helpers of the profile tests: whole device sessions played against the
# server, and the profile states the operator API reports.

use strict;
use warnings;
use Exporter 'import';
use OmadmTest;
use OmadmTest::Device;

our @EXPORT_OK = qw(session profile_states setting_state);

# One whole session of $d: package 1, then the device answers every server
# message (answer's options in %o: tree, codes, apply; nested is on) until
# the server sends no more commands.  Returns what the server sent, in
# order, each "Verb target" ("Atomic" for the container), as a list ref.
sub session {
    my ($d, %o) = @_;
    my $p1 = delete $o{package1} || {};    # package1's options (alerts...)
    $d->new_session;
    my $res = $d->post($d->package1(%$p1));
    my @sent;
    while ($res->{status} == 200
           && (my @cmds = OmadmTest::Device::commands($res->{syncml}))) {
        push @sent, map { $_->{name} . (length _target($_) ? ' ' . _target($_) : '') }
                    OmadmTest::Device::flatten(@cmds);
        $res = $d->post($d->answer($res->{syncml}, nested => 1, %o));
    }
    die "session of $d->{id}: HTTP $res->{status}\n" unless $res->{status} == 200;
    return \@sent;
}

sub _target { OmadmTest::Device::_target($_[0]) }

# { profile => { state, revision, settings => { target => {state, status,
# reason, ...} } } } from GET /devices/{id}/profiles.
sub profile_states {
    my ($t, $id) = @_;
    my ($st, $list) = $t->api(GET => '/devices/' . OmadmTest::uri_escape($id)
                                     . '/profiles');
    die "profiles of $id: $st\n" unless $st == 200;
    my %out;
    for my $p (@$list) {
        $out{ $p->{name} } = { %$p, settings => {
            map { ($_->{target} => $_) } @{ $p->{settings} } } };
    }
    return \%out;
}

# "state:status" of one setting, e.g. "verified:200", "pending:-".
sub setting_state {
    my ($t, $id, $profile, $target) = @_;
    my $s = profile_states($t, $id)->{$profile}{settings}{$target}
        or return 'absent';
    return "$s->{state}:" . ($s->{status} // '-');
}

1;
