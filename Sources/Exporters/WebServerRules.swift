/// Configuration for the web servers a published export is served from, shipped inside the export. Media
/// files are bytes anyone in the room chose: even with sniffed extensions (`MediaSniffer`), a server must
/// never let a browser guess a type (`nosniff`), and a file under `media/` is only ever downloaded
/// (`Content-Disposition: attachment`) and, if a browser opens it anyway, runs in a sandbox with no origin
/// (`Content-Security-Policy: sandbox`), so it cannot read the site or its visitors' cookies.
enum WebServerRules {
    /// Apache (mod_headers): applies to the folder it is in and everything below it.
    static let htaccess = """
        # mxarchive export: served by Apache with mod_headers and AllowOverride FileInfo.
        # No response may be type-guessed by a browser. Deliberately not inside <IfModule>: without
        # mod_headers Apache answers 500 instead of serving the site without these headers.
        Header always set X-Content-Type-Options "nosniff"

        """

    /// Apache, in `media/`: every file there is a download in a sandbox.
    static let mediaHtaccess = """
        # mxarchive export, media/: files sent by room members. Downloaded, never shown as a page.
        # Not inside <IfModule>: without mod_headers these files must fail (500), not be served as pages.
        Header always set X-Content-Type-Options "nosniff"
        Header always set Content-Disposition "attachment"
        Header always set Content-Security-Policy "sandbox"
        <FilesMatch "\\.bin$">
            ForceType application/octet-stream
        </FilesMatch>
        # Nothing here is ever run by the server (FileInfo overrides, like the lines above).
        RemoveHandler .php .phtml .cgi .pl .py
        SetHandler none

        """

    /// nginx: to include inside the `server { }` (or a `location`) that serves the export.
    static let nginx = """
        # mxarchive export, for nginx: include this file inside the server { } block (or the location)
        # that serves the export, e.g.  include /srv/site/server-rules/nginx.conf;
        # add_header in a location replaces every add_header of the levels above it, so the media
        # location repeats nosniff.
        add_header X-Content-Type-Options "nosniff" always;

        # Types still come from the extension (mime.types: .png image/png, .bin application/octet-stream).
        # nginx uses the FIRST regex location that matches: include this file before any other regex
        # location (such as one for caching images by extension), or that one serves media/ without these.
        location ~ /media/[^/]+$ {
            default_type application/octet-stream;
            add_header X-Content-Type-Options "nosniff" always;
            add_header Content-Disposition "attachment" always;
            add_header Content-Security-Policy "sandbox" always;
        }

        """

    /// Caddy v2: to `import` inside the site block that serves the export.
    static let caddy = """
        # mxarchive export, for Caddy 2: import this file inside the site block that serves the export,
        # e.g.  import /srv/site/server-rules/Caddyfile
        header X-Content-Type-Options "nosniff"

        @mxarchiveMedia path */media/*
        header @mxarchiveMedia {
            Content-Disposition "attachment"
            Content-Security-Policy "sandbox"
        }

        """

    /// The files as they are written into an export; the media rules only when it holds media.
    static func files(includesMedia: Bool) -> [(path: String, text: String)] {
        var files: [(String, String)] = [(".htaccess", htaccess), ("server-rules/nginx.conf", nginx),
                                         ("server-rules/Caddyfile", caddy)]
        if includesMedia { files.append(("media/.htaccess", mediaHtaccess)) }
        return files
    }
}
