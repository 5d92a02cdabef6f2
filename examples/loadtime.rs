fn cpu() -> std::time::Duration {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    unsafe { libc::clock_gettime(libc::CLOCK_PROCESS_CPUTIME_ID, &mut ts) };
    std::time::Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}
fn main() {
    let t = cpu();
    for _ in 0..300 {
        let _ = mlcompat::rules::Catalogue::builtin().unwrap();
    }
    println!("builtin cpu: {:?}", (cpu() - t) / 300);
}
