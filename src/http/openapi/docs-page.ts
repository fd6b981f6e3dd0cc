/**
 * `/docs`: a self-contained page (no CDN, so it works on a closed network) that reads
 * `/openapi.json` and lists every operation with its parameters, body schema and responses.
 */
export const docsPage = (title: string): string => `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${title}</title>
<style>
body{font:15px/1.5 system-ui,sans-serif;max-width:960px;margin:2rem auto;padding:0 1rem;color:#1b1f24}
h1{font-size:1.6rem}.op{border:1px solid #d0d7de;border-radius:8px;margin:1rem 0;padding:.75rem 1rem}
.m{display:inline-block;min-width:4.5rem;font-weight:700;text-transform:uppercase}
.get{color:#0969da}.post{color:#1a7f37}.put{color:#9a6700}.patch{color:#8250df}.delete{color:#cf222e}
pre{background:#f6f8fa;padding:.5rem;border-radius:6px;overflow:auto;font-size:13px}code{font-size:14px}
</style></head><body><h1>${title}</h1><p>Machine-readable: <a href="/openapi.json">/openapi.json</a></p><div id="ops">Loading…</div>
<script>
fetch('/openapi.json').then(r=>r.json()).then(doc=>{
  const esc=s=>String(s).replace(/[&<>]/g,c=>({'&':'&amp;','<':'&lt;','>':'&gt;'}[c]));
  const out=[];
  for(const [path,ops] of Object.entries(doc.paths)) for(const [method,op] of Object.entries(ops)){
    const params=(op.parameters||[]).map(p=>'<li><code>'+esc(p.name)+'</code> ('+p.in+(p.required?', required':'')+') '+esc(p.description||'')+'</li>').join('');
    const body=op.requestBody?'<p>Body:</p><pre>'+esc(JSON.stringify(op.requestBody.content['application/json'].schema,null,2))+'</pre>':'';
    const res=Object.entries(op.responses||{}).map(([s,r])=>'<li><b>'+s+'</b> '+esc(r.description)+'</li>').join('');
    out.push('<div class="op"><span class="m '+method+'">'+method+'</span><code>'+esc(path)+'</code><p>'+esc(op.summary||'')+'</p>'+(params?'<ul>'+params+'</ul>':'')+body+'<ul>'+res+'</ul></div>');
  }
  document.getElementById('ops').innerHTML=out.join('');
});
</script></body></html>`;
