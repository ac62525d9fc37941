#!/usr/bin/perl
# No secret reaches a log: after a full MD5 session, a Basic session and
# wrong-password attempts of both kinds, with nginx logging at `info`,
# neither nginx's error log, its access log nor the backend's log holds a
# password, a Cred's data, a nonce the server issued, an inner hash
# B64(MD5(user:pass)), a RespURI session token, the operator token or the
# contract key - in base64 or in hex.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use Digest::MD5 qw(md5);
use MIME::Base64 qw(encode_base64 decode_base64);
use OmadmTest;
use OmadmTest::Device;

my $t = OmadmTest->new(error_log_level => 'info')->start;

sub hdr { OmadmTest::Device::hdr_status($_[0]{syncml}) // {} }
sub code { hdr($_[0])->{Data} // "HTTP $_[0]{status}" }
sub rand_secret { join '', map { ('a' .. 'z', 'A' .. 'Z', 0 .. 9)[rand 62] } 1 .. 20 }

my %secret;    # what => value
my @nonces;
my $n_cred = 0;

# post, remembering the Cred the device sent and any nonce the server issued
sub post {
    my ($d, $xml, $expect, $name) = @_;
    if ($xml =~ m{<Cred>.*?<Data>([^<]+)</Data></Cred>}) {
        $secret{'Cred data ' . ++$n_cred} = $1;
    }
    my $res = $d->post($xml);
    is(code($res), $expect, $name);
    my $chal = hdr($res)->{chal};
    push @nonces, $chal->{NextNonce} if $chal && $chal->{NextNonce};
    # the RespURI token is the only proof of an authenticated session
    $secret{"session token $1"} = $1 if ($d->{url} // '') =~ /[?&]s=([0-9a-f]+)/;
    return $res;
}

# a full MD5 session
my ($user, $pass) = ('md5user', rand_secret());
$secret{'MD5 password'} = $pass;
$secret{'MD5 inner hash'} = encode_base64(md5("$user:$pass"), '');
my $id = 'IMEI:350000000000921';
my $d = $t->device(id => $id, user => $user, pass => $pass);
my $cid = $t->queue_command($id, { verb => 'Get', target => './DevDetail/SwV' });
post($d, $d->package1(cred => undef), '407', 'MD5 device: 407');
my $res = post($d, $d->package1, '212', 'MD5 device: 212');
post($d, $d->answer($res->{syncml}, tree => { './DevDetail/SwV' => '1.0' }),
     '200', 'MD5 device: results accepted');
is($t->get_command($id, $cid)->{state}, 'done', 'MD5 session completed');
$d->new_session;
post($d, $d->package1, '212', 'MD5 device: next session with the NextNonce');

# a Basic session
my ($buser, $bpass) = ('basicuser', rand_secret());
$secret{'Basic password'} = $bpass;
$secret{'Basic inner hash'} = encode_base64(md5("$buser:$bpass"), '');
my $b = $t->device(id => 'IMEI:350000000000922', user => $buser, pass => $bpass,
                   auth => 'basic');
post($b, $b->package1, '212', 'Basic device: 212');

# wrong passwords, MD5 and Basic
my $wrong = rand_secret();
$secret{'wrong password'} = $wrong;
$secret{'wrong inner hash'} = encode_base64(md5("$user:$wrong"), '');
$d->new_session;
post($d, $d->package1(password => $wrong), '401', 'MD5, wrong password: 401');
$b->new_session;
post($b, $b->package1(password => $wrong), '401', 'Basic, wrong password: 401');

# a Cred while the backend is down: the module logs why it answered 503
$t->stop_backend;
$d->new_session;
post($d, $d->package1, 'HTTP 503', 'MD5 Cred, backend down: 503');
$t->start_backend;

$secret{'operator token'} = $t->{token};
$secret{'contract key'} = $t->{key};
ok(@nonces >= 4, scalar(@nonces) . ' nonces issued');
$secret{"nonce $_"} = $nonces[$_ - 1] for 1 .. @nonces;
is($n_cred, 6, 'six Creds sent');

# the 16-byte ones (nonces, MD5 digests) in hex as well
for my $k (sort keys %secret) {
    next unless $secret{$k} =~ m{^[A-Za-z0-9+/]{22}==$};
    $secret{"$k (hex)"} = unpack 'H*', decode_base64($secret{$k});
}

# the request has been logged once the client has its answer, nearly
sleep 1;
my %logs = (
    'nginx error log' => $t->error_log,
    'nginx access log' => $t->access_log,
    'backend log' => $t->backend_log,
);
ok(length $logs{$_}, "$_ is not empty") for sort keys %logs;
like($logs{'nginx error log'}, qr/\[info\]/, 'nginx logged at info level');
like($logs{'nginx error log'}, qr/\[error\] .*omadm: .*503/,
     'the module logged the 503');
for my $log (sort keys %logs) {
    # nginx itself quotes the request line (with the RespURI's ?s=token)
    # in the context of its error-log lines; that log must be protected.
    # The module's own lines and the access log format we ship never do.
    my @names = grep { $log ne 'nginx error log' || !/^session token/ }
                sort keys %secret;
    my @leaks = grep { index($logs{$log}, $secret{$_}) >= 0 } @names;
    is("@leaks", '', "$log: no secret (" . scalar(@names) . ' checked)');
}
my @module_lines = grep { /omadm:/ } split /\n/, $logs{'nginx error log'};
ok(@module_lines, scalar(@module_lines) . ' lines by the module');
my @in_module = grep { my $k = $_; grep { index($_, $secret{$k}) >= 0 } @module_lines }
                sort keys %secret;
is("@in_module", '', "the module's own lines: no secret, no token");

$t->check_error_log;
done_testing;
