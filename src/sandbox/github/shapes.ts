// GitHub's user and account objects, with every field the OpenAPI description requires.
export function simpleUser(web: string, api: string, login: string, id: number, type: "User" | "Organization" = "User") {
  const base = `${api}/users/${login}`;
  return {
    login,
    id,
    node_id: `${type === "User" ? "U" : "O"}_${id}`,
    avatar_url: `${web}/avatars/${login}`,
    gravatar_id: "",
    url: base,
    html_url: `${web}/${login}`,
    followers_url: `${base}/followers`,
    following_url: `${base}/following{/other_user}`,
    gists_url: `${base}/gists{/gist_id}`,
    starred_url: `${base}/starred{/owner}{/repo}`,
    subscriptions_url: `${base}/subscriptions`,
    organizations_url: `${base}/orgs`,
    repos_url: `${base}/repos`,
    events_url: `${base}/events{/privacy}`,
    received_events_url: `${base}/received_events`,
    type,
    site_admin: false,
    user_view_type: "public",
  };
}

export function publicUser(web: string, api: string, login: string, id: number, siteAdmin = false) {
  return {
    ...simpleUser(web, api, login, id),
    site_admin: siteAdmin,
    name: login,
    company: null,
    blog: "",
    location: null,
    email: null,
    hireable: null,
    bio: null,
    public_repos: 3,
    public_gists: 0,
    followers: 0,
    following: 0,
    created_at: "2020-01-01T00:00:00Z",
    updated_at: "2026-01-01T00:00:00Z",
  };
}
