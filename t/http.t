#!/usr/bin/perl
# The device endpoint's HTTP behaviour: method, content types, body size
# limits (Content-Length and chunked), unusable or hostile XML, and the
# response headers.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use Time::HiRes qw(time);
use OmadmTest;

my $t = OmadmTest->new(locations => {
    '/omadm'       => {},
    '/omadm-small' => { omadm_max_message_size => '4k' },
})->start;
my $ua = $t->https;
my $url = $t->device_url;
my $small = $t->device_url('/omadm-small');
my $d = $t->device(id => 'dev-http', user => 'u', pass => 'p');
my $good = $d->package1(cred => undef);

sub post {
    my ($u, $type, $body, %h) = @_;
    return $ua->post($u, { headers => { ($type ? ('Content-Type' => $type) : ()),
                                        %h }, content => $body });
}

my $res = $ua->get($url);
is($res->{status}, 405, 'GET -> 405');
is($res->{headers}{allow}, 'POST', 'Allow: POST');

is(post($url, 'text/xml', $good)->{status}, 415, 'text/xml -> 415');
is(post($url, 'application/vnd.syncml.dm+wbxml-x', $good)->{status}, 415,
   'unknown type -> 415');
is(post($url, undef, $good)->{status}, 415, 'no Content-Type -> 415');

for my $type ('application/vnd.syncml.dm+xml',
              'application/vnd.syncml.dm+xml; charset=utf-8',
              'Application/VND.SyncML.DM+XML;charset="UTF-8"',
              'application/vnd.syncml+xml') {
    $res = post($url, $type, $good);
    is($res->{status}, 200, "'$type' accepted");
}
like($res->{headers}{'content-type'}, qr{^application/vnd\.syncml\.dm\+xml\b},
     'response Content-Type');
is($res->{headers}{'cache-control'}, 'no-store', 'Cache-Control: no-store');

# size limits: 4k location, and the 1m default
my $big = $good;
$big =~ s{</Replace>}{'<Item><Source><LocURI>./DevInfo/Ext/Pad</LocURI></Source><Data>'
                      . ('x' x 8000) . '</Data></Item></Replace>'}e;
my $type = 'application/vnd.syncml.dm+xml';
is(post($small, $type, $good)->{status}, 200, 'small body under 4k -> 200');
is(post($small, $type, $big)->{status}, 413, '8k body, Content-Length -> 413');
my @chunks = map { substr($big, $_ * 1000, 1000) } 0 .. int(length($big) / 1000);
$res = $ua->request('POST', $small, { headers => { 'Content-Type' => $type },
                                      content => sub { shift @chunks } });
is($res->{status}, 413, '8k body, chunked -> 413');
my $huge = $good;
$huge =~ s{</Replace>}{'<Item><Source><LocURI>./DevInfo/Ext/Pad</LocURI></Source><Data>'
                       . ('x' x (1100 * 1024)) . '</Data></Item></Replace>'}e;
is(post($url, $type, $huge)->{status}, 413, '1.1m body on the 1m default -> 413');
# over client_body_buffer_size: nginx spills it to client_body_temp_path,
# which workers (nobody, when run as root) must be able to write
my $spill = $good;
$spill =~ s{</Replace>}{'<Item><Source><LocURI>./DevInfo/Ext/Pad</LocURI></Source><Data>'
                        . ('y' x (200 * 1024)) . '</Data></Item></Replace>'}e;
is(post($url, $type, $spill)->{status}, 200, '200k body (spilled to disk) -> 200');

# unusable bodies
$res = post($url, $type, '<SyncML xmlns="SYNCML:SYNCML1.2"><SyncHdr>');
is($res->{status}, 400, 'truncated XML -> 400');
like($res->{headers}{'content-type'} // '', qr{^text/plain}, '400 reason is text/plain');
is(post($url, $type, '')->{status}, 400, 'empty body -> 400');
is(post($url, $type, '<foo><bar/></foo>')->{status}, 400, 'not SyncML -> 400');
is(post($url, $type, "\x00\x01\x02binary")->{status}, 400, 'garbage -> 400');

my $bomb = '<?xml version="1.0"?><!DOCTYPE SyncML [<!ENTITY a "aaaaaaaaaa">';
for my $n (1 .. 9) {
    my $p = $n == 1 ? 'a' : 'e' . ($n - 1);
    $bomb .= "<!ENTITY e$n \"" . ("&$p;" x 10) . '">';
}
$bomb .= ']><SyncML xmlns="SYNCML:SYNCML1.2"><SyncHdr><VerDTD>1.2</VerDTD>'
    . '<VerProto>DM/1.2</VerProto><SessionID>1</SessionID><MsgID>1</MsgID>'
    . '<Target><LocURI>x</LocURI></Target><Source><LocURI>&e9;</LocURI></Source>'
    . '</SyncHdr><SyncBody><Final/></SyncBody></SyncML>';
my $t0 = time;
$res = post($url, $type, $bomb);
is($res->{status}, 400, 'DOCTYPE entity bomb -> 400');
cmp_ok(time - $t0, '<', 2, 'refused quickly');
is(post($url, $type, $good)->{status}, 200, 'workers still serve after it');

$t->check_error_log;
done_testing;
