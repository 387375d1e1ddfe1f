#!/usr/bin/perl
# gen-geo-db.pl -- writes the MaxMind-format test databases: the demo database of the example
# deployment and the unit-test databases of the geo module.
#
#   scripts/gen-geo-db.pl            (re)writes every file below, relative to the repository root
#   scripts/gen-geo-db.pl --synthetic N FILE [dense|sparse]
#                                    a GeoIP2-City-shaped file of N networks for build-time and
#                                    lookup measurements (see synthetic() below); not committed
#   scripts/gen-geo-db.pl --table TABLE FILE
#                                    a GeoIP2-City-shaped file of the networks listed in TABLE
#                                    (see from_table() below; tests/differential/geo.sh writes its
#                                    database from tests/differential/geo/networks.txt)
#
# Uses Debian's libmaxmind-db-writer-perl (MaxMind::DB::Writer::Tree). Reserved-network removal is
# off: every range here is a documentation, benchmark or private range (RFC 5737, RFC 3849,
# RFC 2544, RFC 1918), never a real network.
#
# "Aliases" (alias_ipv6_to_ipv4): records at ::ffff:0:0/96, 2001::/32 (Teredo) and 2002::/16 (6to4)
# pointing back at the IPv4 data under ::/96, as in MaxMind's own files (the DB-IP Lite and
# ip_version 4 fixtures below have none).
#
# zones/geo/demo-city.mmdb  GeoIP2-City shape, IPv6 tree with IPv4 under ::/96 and its aliases
#   192.0.2.0/24      NL  EU  Amsterdam            10.1.0.0/16   NL     EU  Amsterdam
#   198.51.100.0/25   US  NA  US-CA San Francisco  10.2.0.0/16   DE     EU  Frankfurt
#   198.51.100.128/25 US  NA  US-NY New York       10.3.0.0/16   US-CA  NA  Los Angeles
#   203.0.113.0/24    JP  AS  Tokyo                10.4.0.0/16   US-OR  NA  Portland
#                                                  10.5.0.0/16   US-WA  NA  Seattle
#   2001:db8:1::/48   NL  EU  Amsterdam            10.6.0.0/16   US-NY  NA  New York
#   2001:db8:2::/48   DE  EU  Frankfurt            10.7.0.0/16   BR     SA  Sao Paulo
#   2001:db8:3::/48   US-CA  San Francisco         10.8.0.0/16   JP     AS  Tokyo
#   2001:db8:4::/48   US-NY  New York              10.9.0.0/16   AU     OC  Sydney
#   2001:db8:5::/48   BR  SA  Sao Paulo            10.10.0.0/16  ZA     AF  Johannesburg
#   2001:db8:6::/48   JP  AS  Tokyo
#   2001:db8:7::/48   AU  OC  Sydney
#   2001:db8:8::/48   ZA  AF  Johannesburg
#   2001:db8:42::/48  US-WA  Seattle (the example config's "office" net overrides it)
#
# tests/unit/data/geo/city.mmdb  GeoIP2-City shape, IPv6 tree, aliases on, record size 28
#   192.0.2.0/25      NL  EU  Amsterdam   } siblings of one region: merge into 192.0.2.0/24
#   192.0.2.128/25    DE  EU  Berlin      }
#   198.51.100.0/25   US-CA  San Francisco   } a /24 split across regions
#   198.51.100.128/26 US-NY  New York        }
#   198.51.100.192/26 BR  SA  Sao Paulo      }
#   203.0.113.0/24    JP  AS  Tokyo
#   10.1.0.0/16 AU OC Sydney   10.2.0.0/16 ZA AF   10.3.0.0/16 US-OR   10.4.0.0/16 US-WA
#   10.5.0.0/16 continent EU only (no country, no location)
#   10.6.0.0/16 GB with two subdivision levels ENG, LND (London)
#   10.8.0.0/16 NZ OC Auckland  10.9.0.0/16 TO OC Nuku'alofa (both sides of the antimeridian)
#   2001:db8:1::/48 NL  2001:db8:2::/48 US-CA  2001:db8:3::/48 JP  2001:db8:42::/48 DE
#
# tests/unit/data/geo/country.mmdb  GeoLite2-Country shape (no location, no subdivisions), IPv6
#   tree, aliases on, record size 24
#   192.0.2.0/24 FR EU   10.0.0.0/15 KR AS (overlaps city's 10.1.0.0/16)   10.7.0.0/16 IN AS
#   198.18.0.0/15 CA NA   2001:db8:4::/48 AU OC
#   10.9.0.0/16 traits only (is_anycast: places the network nowhere; overlaps city's TO)
#   2001:db8:9::/48 IN AS with 2001:db8:9::2/127 JP AS and 2001:db8:9::1/128 KR AS inside it
#   (host-sized networks nested in a larger one, as in MaxMind's own test data)
#
# tests/unit/data/geo/dbip-city-lite.mmdb  DB-IP City Lite shape: subdivisions carry names, no
#   iso_code; IPv6 tree without aliases, IPv4 under ::/96, plus one IPv4-mapped network stored
#   natively at ::ffff:0:0/96 (which wins over the ::/96 copy of the same range)
#   192.0.2.0/24 DE EU Berlin (Berlin)   198.51.100.0/24 US NA (California)
#   ::ffff:203.0.113.0/120 AU OC Sydney  203.0.113.0/24 (under ::/96) JP AS Tokyo
#   2001:db8:5::/48 BR SA Sao Paulo
#
# tests/unit/data/geo/city-v4.mmdb  ip_version 4, GeoIP2-City shape
#   192.0.2.0/24 ZA AF Johannesburg   198.51.100.0/24 US-CA Los Angeles
#
# tests/unit/data/geo/corrupt.mmdb       the start of city.mmdb, cut off: no metadata
# tests/unit/data/geo/corrupt-tree.mmdb  city.mmdb with its root node overwritten by 0xFF bytes
use strict;
use warnings;

use File::Basename qw(dirname);
use File::Path qw(make_path);
use Cwd qw(abs_path);
use MaxMind::DB::Writer::Tree;

# Fixed build time and hash order, so regenerating gives the same bytes.
my $EPOCH = 1700000000;
if (($ENV{PERL_HASH_SEED} // '') ne '0') {
	$ENV{PERL_HASH_SEED} = '0';
	$ENV{PERL_PERTURB_KEYS} = '0';
	exec($^X, $0, @ARGV) or die "gen-geo-db.pl: cannot re-exec: $!\n";
}

my %types = (
	city                 => 'map',
	continent            => 'map',
	country              => 'map',
	registered_country   => 'map',
	location             => 'map',
	subdivisions         => ['array', 'map'],
	names                => 'map',
	code                 => 'utf8_string',
	iso_code             => 'utf8_string',
	geoname_id           => 'uint32',
	is_in_european_union => 'boolean',
	latitude             => 'double',
	longitude            => 'double',
	accuracy_radius      => 'uint16',
	time_zone            => 'utf8_string',
	en                   => 'utf8_string',
	traits               => 'map',
	is_anycast           => 'boolean',
);

my %continent_name = (
	AF => 'Africa', AN => 'Antarctica', AS => 'Asia', EU => 'Europe',
	NA => 'North America', OC => 'Oceania', SA => 'South America',
);

# country => [continent, English name, in EU]
my %country = (
	AU => ['OC', 'Australia', 0],   BR => ['SA', 'Brazil', 0],       CA => ['NA', 'Canada', 0],
	DE => ['EU', 'Germany', 1],     TO => ['OC', 'Tonga', 0],        FR => ['EU', 'France', 1],
	GB => ['EU', 'United Kingdom', 0], IN => ['AS', 'India', 0],     JP => ['AS', 'Japan', 0],
	KR => ['AS', 'South Korea', 0], NL => ['EU', 'Netherlands', 1],  NZ => ['OC', 'New Zealand', 0],
	US => ['NA', 'United States', 0], ZA => ['AF', 'South Africa', 0],
);

# The record of one network. $where: "CC", "CC-SUB" or "CC-SUB1-SUB2" (subdivisions from largest
# to smallest), or "@EU" for a record that knows only its continent.
sub record {
	my ($where, $city, $lat, $lon, %opt) = @_;
	if ($where =~ /^@(\w\w)$/) {
		return { continent => { code => $1, names => { en => $continent_name{$1} } } };
	}
	my ($cc, @subs) = split /-/, $where;
	my $c = $country{$cc} or die "gen-geo-db.pl: no country $cc\n";
	my %r = (
		continent => { code => $c->[0], names => { en => $continent_name{ $c->[0] } } },
		country   => { iso_code => $cc, names => { en => $c->[1] } },
		registered_country => { iso_code => $cc, names => { en => $c->[1] } },
	);
	$r{country}{is_in_european_union} = 1 if $c->[2];
	return \%r if $opt{country_only};
	$r{subdivisions} = [map { { iso_code => $_, names => { en => $_ } } } @subs] if @subs;
	$r{city} = { names => { en => $city } } if defined $city;
	$r{location} = { latitude => $lat, longitude => $lon, accuracy_radius => 50 } if defined $lat;
	return \%r;
}

# DB-IP Lite: the same field names, but subdivisions carry only names (no iso_code) and there is
# no registered_country.
sub dbip_record {
	my ($cc, $subdivision, $city, $lat, $lon) = @_;
	my $c = $country{$cc};
	my %r = (
		continent => { code => $c->[0], names => { en => $continent_name{ $c->[0] } } },
		country   => { iso_code => $cc, names => { en => $c->[1] }, is_in_european_union => $c->[2] ? 1 : 0 },
		location  => { latitude => $lat, longitude => $lon },
	);
	$r{subdivisions} = [{ names => { en => $subdivision } }] if defined $subdivision;
	$r{city} = { names => { en => $city } } if defined $city;
	return \%r;
}

sub tree {
	my (%opt) = @_;
	my $t = MaxMind::DB::Writer::Tree->new(
		ip_version               => $opt{ip_version} // 6,
		record_size              => $opt{record_size} // 28,
		database_type            => $opt{type},
		languages                => ['en'],
		description              => { en => "meridian test data ($opt{type})" },
		map_key_type_callback    => sub { $types{ $_[0] } },
		alias_ipv6_to_ipv4       => $opt{alias} // 1,
		remove_reserved_networks => 0,
	);
	$t->_set_build_epoch($EPOCH);
	return $t;
}

sub write_tree {
	my ($t, $path, $nets) = @_;
	$t->insert_network($_->[0], $_->[1]) for @$nets;
	make_path(dirname($path));
	open my $fh, '>:raw', "$path.tmp" or die "gen-geo-db.pl: $path.tmp: $!\n";
	$t->write_tree($fh);
	close $fh or die "gen-geo-db.pl: $path.tmp: $!\n";
	rename "$path.tmp", $path or die "gen-geo-db.pl: $path: $!\n";
	printf "%-45s %6d bytes, %d networks\n", $path, -s $path, scalar @$nets;
}

my @AMS = (52.37, 4.89);
my @FRA = (50.11, 8.68);
my @BER = (52.52, 13.40);
my @SFO = (37.77, -122.42);
my @LAX = (34.05, -118.24);
my @PDX = (45.52, -122.68);
my @SEA = (47.61, -122.33);
my @NYC = (40.71, -74.01);
my @GRU = (-23.55, -46.63);
my @TYO = (35.68, 139.69);
my @SYD = (-33.87, 151.21);
my @JNB = (-26.20, 28.05);
my @LON = (51.51, -0.13);
my @AKL = (-36.85, 174.76);
my @TBU = (-21.14, -175.20);

sub demo {
	my ($path) = @_;
	write_tree(tree(type => 'GeoIP2-City'), $path, [
		['192.0.2.0/24',      record('NL', 'Amsterdam', @AMS)],
		['198.51.100.0/25',   record('US-CA', 'San Francisco', @SFO)],
		['198.51.100.128/25', record('US-NY', 'New York', @NYC)],
		['203.0.113.0/24',    record('JP', 'Tokyo', @TYO)],
		['10.1.0.0/16',       record('NL', 'Amsterdam', @AMS)],
		['10.2.0.0/16',       record('DE', 'Frankfurt', @FRA)],
		['10.3.0.0/16',       record('US-CA', 'Los Angeles', @LAX)],
		['10.4.0.0/16',       record('US-OR', 'Portland', @PDX)],
		['10.5.0.0/16',       record('US-WA', 'Seattle', @SEA)],
		['10.6.0.0/16',       record('US-NY', 'New York', @NYC)],
		['10.7.0.0/16',       record('BR', 'Sao Paulo', @GRU)],
		['10.8.0.0/16',       record('JP', 'Tokyo', @TYO)],
		['10.9.0.0/16',       record('AU', 'Sydney', @SYD)],
		['10.10.0.0/16',      record('ZA', 'Johannesburg', @JNB)],
		['2001:db8:1::/48',   record('NL', 'Amsterdam', @AMS)],
		['2001:db8:2::/48',   record('DE', 'Frankfurt', @FRA)],
		['2001:db8:3::/48',   record('US-CA', 'San Francisco', @SFO)],
		['2001:db8:4::/48',   record('US-NY', 'New York', @NYC)],
		['2001:db8:5::/48',   record('BR', 'Sao Paulo', @GRU)],
		['2001:db8:6::/48',   record('JP', 'Tokyo', @TYO)],
		['2001:db8:7::/48',   record('AU', 'Sydney', @SYD)],
		['2001:db8:8::/48',   record('ZA', 'Johannesburg', @JNB)],
		['2001:db8:42::/48',  record('US-WA', 'Seattle', @SEA)],
	]);
}

sub unit_dbs {
	my ($dir) = @_;
	my $city = "$dir/city.mmdb";
	write_tree(tree(type => 'GeoIP2-City'), $city, [
		['192.0.2.0/25',      record('NL', 'Amsterdam', @AMS)],
		['192.0.2.128/25',    record('DE', 'Berlin', @BER)],
		['198.51.100.0/25',   record('US-CA', 'San Francisco', @SFO)],
		['198.51.100.128/26', record('US-NY', 'New York', @NYC)],
		['198.51.100.192/26', record('BR', 'Sao Paulo', @GRU)],
		['203.0.113.0/24',    record('JP', 'Tokyo', @TYO)],
		['10.1.0.0/16',       record('AU', 'Sydney', @SYD)],
		['10.2.0.0/16',       record('ZA', 'Johannesburg', @JNB)],
		['10.3.0.0/16',       record('US-OR', 'Portland', @PDX)],
		['10.4.0.0/16',       record('US-WA', 'Seattle', @SEA)],
		['10.5.0.0/16',       record('@EU')],
		['10.6.0.0/16',       record('GB-ENG-LND', 'London', @LON)],
		['10.8.0.0/16',       record('NZ', 'Auckland', @AKL)],
		['10.9.0.0/16',       record('TO', "Nuku'alofa", @TBU)],
		['2001:db8:1::/48',   record('NL', 'Amsterdam', @AMS)],
		['2001:db8:2::/48',   record('US-CA', 'San Francisco', @SFO)],
		['2001:db8:3::/48',   record('JP', 'Tokyo', @TYO)],
		['2001:db8:42::/48',  record('DE', 'Berlin', @BER)],
	]);
	write_tree(tree(type => 'GeoLite2-Country', record_size => 24), "$dir/country.mmdb", [
		['192.0.2.0/24',    record('FR', undef, undef, undef, country_only => 1)],
		['10.0.0.0/15',     record('KR', undef, undef, undef, country_only => 1)],
		['10.7.0.0/16',     record('IN', undef, undef, undef, country_only => 1)],
		['198.18.0.0/15',   record('CA', undef, undef, undef, country_only => 1)],
		['2001:db8:4::/48', record('AU', undef, undef, undef, country_only => 1)],
		['10.9.0.0/16',     { traits => { is_anycast => 1 } }],
		['2001:db8:9::/48', record('IN', undef, undef, undef, country_only => 1)],
		['2001:db8:9::2/127', record('JP', undef, undef, undef, country_only => 1)],
		['2001:db8:9::1/128', record('KR', undef, undef, undef, country_only => 1)],
	]);
	write_tree(tree(type => 'DBIP-City-Lite', record_size => 24, alias => 0), "$dir/dbip-city-lite.mmdb", [
		['192.0.2.0/24',           dbip_record('DE', 'Berlin', 'Berlin', @BER)],
		['198.51.100.0/24',        dbip_record('US', 'California', 'Los Angeles', @LAX)],
		['203.0.113.0/24',         dbip_record('JP', 'Tokyo', 'Tokyo', @TYO)],
		['::ffff:203.0.113.0/120', dbip_record('AU', 'New South Wales', 'Sydney', @SYD)],
		['2001:db8:5::/48',        dbip_record('BR', 'Sao Paulo', 'Sao Paulo', @GRU)],
	]);
	write_tree(tree(type => 'GeoIP2-City', ip_version => 4, record_size => 24, alias => 0), "$dir/city-v4.mmdb", [
		['192.0.2.0/24',    record('ZA', 'Johannesburg', @JNB)],
		['198.51.100.0/24', record('US-CA', 'Los Angeles', @LAX)],
	]);

	open my $in, '<:raw', $city or die "gen-geo-db.pl: $city: $!\n";
	local $/;
	my $bytes = <$in>;
	close $in;
	write_bytes("$dir/corrupt.mmdb", substr($bytes, 0, int(length($bytes) / 2)));
	# Record size 28: a node is 7 bytes; all ones points far beyond the data section.
	substr($bytes, 0, 7) = "\xFF" x 7;
	write_bytes("$dir/corrupt-tree.mmdb", $bytes);
}

sub write_bytes {
	my ($path, $bytes) = @_;
	open my $out, '>:raw', $path or die "gen-geo-db.pl: $path: $!\n";
	print $out $bytes;
	close $out or die "gen-geo-db.pl: $path: $!\n";
	printf "%-45s %6d bytes\n", $path, length $bytes;
}

# About $n networks for measurements, 3 IPv4 to 1 IPv6, each mapped to one of 500 records
# (countries with subdivisions and locations). "dense" lays them out like a real City database:
# consecutive allocations of mixed sizes, runs of neighbours sharing a record, a few holes.
# "sparse" scatters isolated /24s and /48s at random: the worst case for a CIDR tiling (every
# isolated network needs a default entry per level of its path).
sub synthetic {
	my ($n, $path, $layout) = @_;
	my @cc = sort keys %country;
	my @recs;
	for my $i (0 .. 499) {
		my $cc = $cc[ $i % @cc ];
		my $sub = $cc eq 'US' ? '-' . (qw(CA OR WA NY TX FL))[ $i % 6 ] : '';
		push @recs, record("$cc$sub", "city$i", -60 + ($i * 7919 % 12000) / 100, -180 + ($i * 104729 % 36000) / 100);
	}
	my $seed = 12345;
	# A 64-bit xorshift: the low bits of a small LCG repeat too soon for unique networks.
	my $rand = sub {
		$seed ^= $seed << 13; # shifts work on 64-bit unsigned integers and wrap
		$seed ^= $seed >> 7;
		$seed ^= $seed << 17;
		return ($seed >> 16) & 0x7FFFFFFF;
	};
	my @nets = $layout eq 'sparse' ? sparse($n, $rand, \@recs) : dense($n, $rand, \@recs);
	write_tree(tree(type => 'GeoIP2-City', record_size => 28), $path, \@nets);
}

sub sparse {
	my ($n, $rand, $recs) = @_;
	my (%seen, @nets);
	while (@nets < $n) {
		my $net;
		if (@nets % 4 != 3) {
			my $a = 1 + $rand->() % 223;
			next if $a == 10 || $a == 127;
			$net = sprintf('%d.%d.%d.0/24', $a, $rand->() % 256, $rand->() % 256);
		} else {
			my ($top, $second) = ($rand->() % 4096, $rand->() % 65536);
			next if $top == 2 || ($top == 1 && $second == 0); # 2002::/16, 2001::/32: aliases
			$net = sprintf('2%03x:%x:%x::/48', $top, $second, $rand->() % 65536);
		}
		next if $seen{$net}++;
		push @nets, [$net, $recs->[ $rand->() % 500 ]];
	}
	return @nets;
}

sub trailing_zeros {
	my ($v, $max) = @_;
	my $z = 0;
	$z++ while $z < $max && !(($v >> $z) & 1);
	return $z;
}

# Next network of a dense layout at $a (an address of $bits bits): its prefix, between $min and
# $max, mostly the longest, never shorter than the alignment of $a allows.
sub dense_prefix {
	my ($rand, $a, $bits, $min, $max) = @_;
	my $align = $bits - trailing_zeros($a, $bits);
	$min = $align if $align > $min;
	return $max if $min >= $max || $rand->() % 100 < 50;
	return $min + $rand->() % ($max - $min + 1);
}

sub dense {
	my ($n, $rand, $recs) = @_;
	my (@nets, $rec);
	my $next_rec = sub { $rec = $recs->[ $rand->() % 500 ] if !$rec || $rand->() % 100 < 30; return $rec };
	my $a = 1 << 24; # 1.0.0.0
	while (@nets < $n * 3 / 4 && $a < 224 << 24) {
		if (($a >> 24) == 10 || ($a >> 24) == 127) {
			$a += 1 << 24;
			next;
		}
		my $p = dense_prefix($rand, $a, 32, 12, 24);
		push @nets, [sprintf('%d.%d.%d.%d/%d', $a >> 24, ($a >> 16) & 255, ($a >> 8) & 255, $a & 255, $p), $next_rec->()]
			if $rand->() % 100 >= 8;
		$a += 1 << (32 - $p);
	}
	my $hi = 0x2400 << 48; # 2400::, past the aliases at 2001::/32 and 2002::/16
	while (@nets < $n) {
		my $p = dense_prefix($rand, $hi, 64, 29, 48);
		push @nets, [sprintf('%x:%x:%x:%x::/%d', $hi >> 48, ($hi >> 32) & 0xFFFF, ($hi >> 16) & 0xFFFF, $hi & 0xFFFF, $p),
			$next_rec->()] if $rand->() % 100 >= 8;
		$hi += 1 << (64 - $p);
	}
	return @nets;
}

# A table of networks, one a line: NETWORK WHERE [LAT LON CITY...], WHERE as record() takes it
# ("CC", "CC-SUB", "@EU"); "#" starts a comment. Written like MaxMind's GeoIP2-City files (and their
# public test databases): an IPv6 tree, IPv4 networks under ::/96 with the usual aliases,
# continent.code, country.iso_code, subdivisions[].iso_code, city name and location.
sub from_table {
	my ($table, $path) = @_;
	open my $in, '<', $table or die "gen-geo-db.pl: $table: $!\n";
	my @nets;
	while (my $line = <$in>) {
		$line =~ s/#.*//;
		my ($net, $where, $lat, $lon, @city) = split ' ', $line;
		next unless defined $net;
		die "gen-geo-db.pl: $table:$.: expected NETWORK WHERE [LAT LON CITY...]\n"
			unless $net =~ m{^[0-9a-fA-F:.]+/\d+$} && (!defined $lat || (defined $lon && @city));
		push @nets, [$net, record($where, @city ? "@city" : undef, $lat, $lon)];
	}
	close $in;
	die "gen-geo-db.pl: $table: no networks\n" unless @nets;
	write_tree(tree(type => 'GeoIP2-City'), $path, \@nets);
}

if (@ARGV && $ARGV[0] eq '--table') {
	die "usage: gen-geo-db.pl --table TABLE FILE\n" unless @ARGV == 3;
	from_table($ARGV[1], $ARGV[2]);
	exit 0;
}
if (@ARGV && $ARGV[0] eq '--synthetic') {
	die "usage: gen-geo-db.pl --synthetic N FILE [dense|sparse]\n"
		unless (@ARGV == 3 || @ARGV == 4) && ($ARGV[3] // 'dense') =~ /^(dense|sparse)$/;
	synthetic($ARGV[1], $ARGV[2], $ARGV[3] // 'dense');
	exit 0;
}
die "usage: gen-geo-db.pl [--synthetic N FILE [dense|sparse] | --table TABLE FILE]\n" if @ARGV;
my $root = abs_path(dirname(abs_path(__FILE__)) . '/..');
demo("$root/zones/geo/demo-city.mmdb");
unit_dbs("$root/tests/unit/data/geo");
