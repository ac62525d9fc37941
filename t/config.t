#!/usr/bin/perl
# The directives as an operator meets them: `nginx -t` (Debian's nginx
# loading the built module) accepts a configuration using every directive
# at every level it allows, and refuses each mistake with an [emerg] in
# the directive's own words.  The module exports only nginx's three
# module symbols.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use OmadmTest;
use OmadmTest::Device;

my $t = OmadmTest->new(
    session_zone => 'zone=omadm:10m ttl=5m',
    http_conf => "    omadm_session_zone zone=other:1m;\n"
        . "    omadm_auth md5 basic;\n    omadm_retry_after 10;\n",
    server_conf => "        omadm_challenge basic;\n"
        . "        omadm_xml_limits depth=16;\n"
        . "        location = /status { omadm_status; allow 127.0.0.1; deny all; }\n",
    locations => {
        '/omadm' => {
            omadm_auth => 'md5 basic', omadm_challenge => 'md5',
            omadm_max_message_size => '512k', omadm_max_commands => 20,
            omadm_auth_failures => '3 2m', omadm_retry_after => '15s',
            omadm_xml_limits => 'depth=24 elements=5000 text=64k',
            omadm_server_id => 'https://dm.example.com/omadm',
        },
        # everything else inherited from http{} and server{}
        '/omadm-inherit' => { omadm => 'other', omadm_auth => undef,
                              omadm_challenge => undef,
                              omadm_max_message_size => undef },
    },
);

# nginx -t on the harness configuration with some parts replaced:
# locations => {path => {directive => value}} merged into the valid ones,
# session_zone / http_conf / server_conf replaced.
sub nginx_t {
    my (%o) = @_;
    my %locs = %{ $t->{locations} };
    for my $path (keys %{ $o{locations} || {} }) {
        $locs{$path} = { %{ $locs{$path} || {} }, %{ $o{locations}{$path} } };
    }
    local $t->{locations} = \%locs;
    local $t->{session_zone} = $o{session_zone} // $t->{session_zone};
    local $t->{http_conf} = $o{http_conf} // $t->{http_conf};
    local $t->{server_conf} = $o{server_conf} // $t->{server_conf};
    return $t->nginx_test($t->nginx_conf);
}

my ($rc, $out) = nginx_t();
is($rc, 0, 'nginx -t: every directive, at http, server and location level')
    or diag($out);
like($out, qr/test is successful/, 'nginx says the test is successful');
unlike($out, qr/\[(?:emerg|alert|crit|warn)\]/, 'and warns about nothing');

# each mistake -> exit 1 and exactly this [emerg]
my @refused = (
    [ 'omadm_auth sha1',
      { locations => { '/omadm' => { omadm_auth => 'sha1' } } },
      '"omadm_auth" has invalid value "sha1"' ],
    [ 'omadm_auth md5 digest',
      { locations => { '/omadm' => { omadm_auth => 'md5 digest' } } },
      '"omadm_auth" has invalid value "digest"' ],
    [ 'omadm_challenge of an unknown scheme',
      { locations => { '/omadm' => { omadm_challenge => 'digest' } } },
      '"omadm_challenge" has invalid value "digest"' ],
    [ 'omadm_challenge hmac not accepted',
      { locations => { '/omadm' => { omadm_challenge => 'hmac' } } },
      '"omadm_challenge" "hmac" is not among the schemes accepted by "omadm_auth"' ],
    [ 'omadm_server_auth of an unknown scheme',
      { locations => { '/omadm' => { omadm_server_auth => 'hmac' } } },
      '"omadm_server_auth" has invalid value "hmac"' ],
    [ 'omadm_challenge not among omadm_auth',
      { locations => { '/omadm' => { omadm_auth => 'basic' } } },
      '"omadm_challenge" "md5" is not among the schemes accepted by "omadm_auth"' ],
    [ 'omadm_challenge inherited from server{}, not accepted in the location',
      { locations => { '/omadm-inherit' => { omadm_auth => 'md5' } } },
      '"omadm_challenge" "basic" is not among the schemes accepted by "omadm_auth"' ],
    [ 'omadm without omadm_backend',
      { locations => { '/omadm' => { omadm_backend => undef } } },
      '"omadm" requires "omadm_backend"' ],
    [ 'omadm_backend not a URI prefix',
      { locations => { '/omadm' => { omadm_backend => 'omadm-backend/' } } },
      '"omadm_backend" has invalid value "omadm-backend/", it must be a URI '
      . 'prefix starting with "/"' ],
    [ 'omadm naming an unknown zone',
      { locations => { '/omadm' => { omadm => 'nosuch' } } },
      '"omadm" uses unknown omadm_session_zone "nosuch"' ],
    [ 'omadm_session_zone without a size',
      { session_zone => 'zone=omadm ttl=5m' },
      '"omadm_session_zone" has invalid zone size in "zone=omadm"' ],
    [ 'omadm_session_zone with a bad size',
      { session_zone => 'zone=omadm:10q' },
      '"omadm_session_zone" has invalid zone size "10q"' ],
    [ 'omadm_session_zone too small',
      { session_zone => 'zone=omadm:4k' },
      '"omadm_session_zone" zone "omadm" is too small' ],
    [ 'omadm_session_zone ttl=0',
      { session_zone => 'zone=omadm:10m ttl=0' },
      '"omadm_session_zone" has invalid ttl "0"' ],
    [ 'omadm_session_zone ttl=soon',
      { session_zone => 'zone=omadm:10m ttl=soon' },
      '"omadm_session_zone" has invalid ttl "soon"' ],
    [ 'omadm_session_zone unknown parameter',
      { session_zone => 'zone=omadm:10m size=5' },
      '"omadm_session_zone" has invalid parameter "size=5"' ],
    [ 'omadm_session_zone without zone=',
      { session_zone => 'ttl=5m' },
      '"omadm_session_zone" must have "zone" parameter' ],
    [ 'omadm_session_zone declared twice',
      { http_conf => "    omadm_session_zone zone=omadm:10m ttl=1m;\n" },
      'duplicate omadm_session_zone "omadm"' ],
    [ 'omadm_session_zone in server{}',
      { server_conf => "        omadm_session_zone zone=s:1m;\n" },
      '"omadm_session_zone" directive is not allowed here' ],
    [ 'omadm_xml_limits depth=0',
      { locations => { '/omadm' => { omadm_xml_limits => 'depth=0' } } },
      '"omadm_xml_limits" has invalid value "depth=0"' ],
    [ 'omadm_xml_limits elements=many',
      { locations => { '/omadm' => { omadm_xml_limits => 'depth=8 elements=many' } } },
      '"omadm_xml_limits" has invalid value "elements=many"' ],
    [ 'omadm_xml_limits text=0',
      { locations => { '/omadm' => { omadm_xml_limits => 'text=0' } } },
      '"omadm_xml_limits" has invalid value "text=0"' ],
    [ 'omadm_xml_limits unknown limit',
      { locations => { '/omadm' => { omadm_xml_limits => 'width=3' } } },
      '"omadm_xml_limits" has invalid value "width=3"' ],
    [ 'omadm_max_commands 0',
      { locations => { '/omadm' => { omadm_max_commands => 0 } } },
      '"omadm_max_commands" has invalid value "0"' ],
    [ 'omadm_max_commands -3',
      { locations => { '/omadm' => { omadm_max_commands => -3 } } },
      '"omadm_max_commands" has invalid value "-3"' ],
    [ 'omadm_auth_failures 0 60s',
      { locations => { '/omadm' => { omadm_auth_failures => '0 60s' } } },
      '"omadm_auth_failures" has invalid value "0"' ],
    [ 'omadm_auth_failures 5 soon',
      { locations => { '/omadm' => { omadm_auth_failures => '5 soon' } } },
      '"omadm_auth_failures" has invalid window "soon"' ],
    [ 'omadm_auth_failures 5 0s',
      { locations => { '/omadm' => { omadm_auth_failures => '5 0s' } } },
      '"omadm_auth_failures" has invalid window "0s"' ],
    [ 'omadm_auth_failures without a window',
      { locations => { '/omadm' => { omadm_auth_failures => '5' } } },
      'invalid number of arguments in "omadm_auth_failures" directive' ],
    [ 'omadm_server_id with a query',
      { locations => { '/omadm' => { omadm_server_id => 'https://x/y?z' } } },
      '"omadm_server_id" has invalid value "https://x/y?z"' ],
    [ 'omadm_retry_after not a time',
      { locations => { '/omadm' => { omadm_retry_after => 'later' } } },
      '"omadm_retry_after" directive invalid value' ],
    [ 'omadm_max_message_size not a size',
      { locations => { '/omadm' => { omadm_max_message_size => 'big' } } },
      '"omadm_max_message_size" directive invalid value' ],
    [ 'omadm_max_object_size not a size',
      { locations => { '/omadm' => { omadm_max_object_size => 'huge' } } },
      '"omadm_max_object_size" directive invalid value' ],
    [ 'omadm_node_id with a dot',
      { http_conf => "    omadm_node_id dm.a;\n" },
      '"omadm_node_id" has invalid value "dm.a", it must be 1 to 32 of the '
      . 'characters A-Z a-z 0-9 _ -' ],
    [ 'omadm_node_id of 33 characters',
      { http_conf => "    omadm_node_id " . ('n' x 33) . ";\n" },
      '"omadm_node_id" has invalid value "' . ('n' x 33) . '", it must be 1 '
      . 'to 32 of the characters A-Z a-z 0-9 _ -' ],
    [ 'omadm_node_id empty',
      { http_conf => "    omadm_node_id \"\";\n" },
      '"omadm_node_id" has invalid value "", it must be 1 to 32 of the '
      . 'characters A-Z a-z 0-9 _ -' ],
    [ 'omadm_node_id in server{}',
      { server_conf => "        omadm_node_id dm-a;\n" },
      '"omadm_node_id" directive is not allowed here' ],
    [ 'omadm_status with an argument',
      { server_conf => "        location = /status { omadm_status on; }\n" },
      'invalid number of arguments in "omadm_status" directive' ],
    [ 'omadm_status in the device endpoint',
      { locations => { '/omadm' => { omadm_status => '' } } },
      '"omadm_status" directive conflicts with another content handler in the '
      . 'location' ],
    [ 'omadm_status at server level',
      { server_conf => "        omadm_status;\n" },
      '"omadm_status" directive is not allowed here' ],
    [ 'omadm_session_zone named as the counters\' zone',
      { session_zone => 'zone=omadm_status:1m' },
      '"omadm_session_zone" zone name "omadm_status" is reserved or longer '
      . 'than 64 bytes' ],
    [ 'omadm_session_zone name over 64 bytes',
      { session_zone => 'zone=' . ('z' x 65) . ':1m' },
      '"omadm_session_zone" zone name "' . ('z' x 65) . '" is reserved or '
      . 'longer than 64 bytes' ],
    [ 'omadm_object_zone of an undeclared zone',
      { locations => { '/omadm' => { omadm_object_zone => 'nosuch' } } },
      '"omadm_object_zone" uses unknown omadm_session_zone "nosuch"' ],
);

for my $case (@refused) {
    my ($name, $over, $msg) = @$case;
    ($rc, $out) = nginx_t(%$over);
    is($rc, 1, "$name: nginx -t fails");
    my @emerg = grep { /\[emerg\]/ } split /\n/, $out;
    is(scalar @emerg, 1, "$name: one [emerg]") or diag($out);
    like($emerg[0] // '', qr/^nginx: \[emerg\] \Q$msg\E in \S+\.conf:\d+$/,
         "$name: '$msg'");
}

# a zero body limit makes the endpoint refuse every message with 413 (and
# nginx's client_max_body_size 0 would even mean "unlimited"): refuse it
($rc, $out) = nginx_t(locations => { '/omadm' => { omadm_max_message_size => 0 } });
is($rc, 1, 'omadm_max_message_size 0: nginx -t fails');
like($out, qr/\[emerg\] "omadm_max_message_size" has invalid value "0"/,
     'omadm_max_message_size 0: has invalid value');

# the module exports nginx's three symbols and nothing of the C++ core
my @syms = sort map { (split ' ')[-1] }
           grep { /\S/ } `nm -D --defined-only $OmadmTest::MODULE`;
is($?, 0, 'nm -D ran');
is_deeply(\@syms, [ qw(ngx_module_names ngx_module_order ngx_modules) ],
          'only ngx_modules, ngx_module_names, ngx_module_order exported')
    or diag("exported: @syms");

# nginx -t itself logged no alert/crit (the [emerg]s above are expected)
my @bad = grep { /\[(alert|crit)\]/ } split /\n/,
          OmadmTest::_slurp($t->dir . '/test-error.log');
ok(!@bad, 'nginx -t logged no alert/crit') or diag(join "\n", @bad);

# the valid configuration runs, and the levels merge as written
$t->start;
my $d = $t->device(id => 'dev-cfg', user => 'uc', pass => 'pc');
my $r = $d->post($d->package1(cred => undef))->{syncml};
my $hs = OmadmTest::Device::hdr_status($r) || {};
is($hs->{Data}, '407', '/omadm: challenged');
is(($hs->{chal} || {})->{Type}, 'syncml:auth-md5', '/omadm: its own omadm_challenge md5');
# before authentication the RespURI carries no session token yet
like($r->{hdr}{RespURI} // '', qr{^https://dm\.example\.com/omadm$},
     '/omadm: RespURI built on omadm_server_id');
my $i = $t->device(id => 'dev-inh', user => 'ui', pass => 'pi',
                   path => '/omadm-inherit');
$r = $i->post($i->package1(cred => undef))->{syncml};
$hs = OmadmTest::Device::hdr_status($r) || {};
is(($hs->{chal} || {})->{Type}, 'syncml:auth-basic',
   '/omadm-inherit: omadm_challenge basic inherited from server{}');
like($r->{hdr}{RespURI} // '', qr{^https://127\.0\.0\.1:\d+/omadm-inherit$},
     '/omadm-inherit: default server id');
$i->{auth} = 'basic';
$r = $i->post($i->package1)->{syncml};
$hs = OmadmTest::Device::hdr_status($r) || {};
is($hs->{Data}, '212', '/omadm-inherit: Basic accepted (omadm_auth from http{})');
like($r->{hdr}{RespURI} // '', qr{^https://127\.0\.0\.1:\d+/omadm-inherit\?s=\w{32}$},
     '/omadm-inherit: the 212 RespURI carries the session token');
$t->check_error_log;

done_testing;
