#!/usr/bin/perl
# omadm-sim registers its fleet through POST /api/v1/devices:batch (10,000
# devices a request: 25,001 devices are three requests and no single
# POST), and where the backend has no batch endpoint (an older one, here an
# nginx in front of the operator API that answers 404 for it) it falls
# back to one POST /api/v1/devices per device; either way the devices log
# in and --verify finds every command.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use JSON::PP;
use OmadmTest;

my $SIM = $OmadmTest::SIM;
plan skip_all => "$SIM not built (run make)" unless -x $SIM;

my $t = OmadmTest->new;
my $old_api_port = OmadmTest::free_port();
$t->{http_conf} = <<"EOF_CONF";
    server {
        listen 127.0.0.1:$old_api_port;
        location = /api/v1/devices:batch { return 404 '{"error": "not found"}'; }
        location / { proxy_pass http://127.0.0.1:$t->{api_port}; }
    }
EOF_CONF
$t->start;
my $dir = $t->dir;

sub sim {
    my ($api, @args) = @_;
    my @cmd = ($SIM, '--url', $t->device_url, '--ca', $t->ca_file,
               '--api', $api, '--token-file', "$dir/admin.token",
               '--quiet', '--json', @args);
    open(my $fh, '-|', @cmd) // die "fork: $!\n";
    local $/;
    my $out = <$fh> // '';
    close $fh;
    return ($? >> 8, eval { decode_json($out) } // {});
}
sub logged { my ($re) = @_; my $n = () = $t->backend_log =~ /$re/g; $n }

# --- the batch endpoint ---------------------------------------------------------
my ($rc, $r) = sim($t->api_url, '--devices', 5, '--verify', 2, '--seed', 3,
                   '--prefix', 'batch');
is($rc, 0, 'batch registration: exit 0');
is($r->{sessions_completed}, 5, '... every device had its session');
is($r->{verify}{correct}, 10, '... and --verify found every command');
is(logged(qr{POST /api/v1/devices:batch 200}), 1, '... one batch request');
is(logged(qr{POST /api/v1/devices 20}), 0, '... no single POST');

# Three batches for 25,001 devices (a run of one session: --rate and a
# short --duration start only the first).
($rc, $r) = sim($t->api_url, '--devices', 25_001, '--rate', 1,
                '--duration', 0.001, '--prefix', 'many');
is($rc, 0, '25,001 devices: exit 0');
is(logged(qr{POST /api/v1/devices:batch 200}), 1 + 3, '... three more batches');
my ($st, $d) = $t->api(GET => '/devices/many1-25000');
is($st, 200, '... the last device is registered');

# The same fleet again: everything exists, which is fine.
($rc, $r) = sim($t->api_url, '--devices', 5, '--seed', 3, '--prefix', 'batch');
is($rc, 0, 'the same fleet again: exit 0 (exists is fine)');

# --- a backend without it ----------------------------------------------------------
($rc, $r) = sim("http://127.0.0.1:$old_api_port/api/v1", '--devices', 5,
                '--verify', 2, '--seed', 4, '--prefix', 'single');
is($rc, 0, 'no batch endpoint: exit 0');
is($r->{sessions_completed}, 5, '... every device had its session');
is($r->{verify}{correct}, 10, '... and --verify found every command');
is(logged(qr{POST /api/v1/devices 201}), 5, '... one POST per device');
is(logged(qr{POST /api/v1/devices:batch}), 5,
   '... and no batch reached the backend (still the 5 above)');

$t->check_error_log;
done_testing;
